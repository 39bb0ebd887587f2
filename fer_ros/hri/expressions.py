"""Model classes -> REP-155 expressions, and valence/arousal from the class scores. ROS-free.

hri_msgs/Expression names each expression with a string constant (``Expression.HAPPY ==
"happy"``, ...); the emotion model's classes (FER2013's, from its card) map onto them by
:data:`EXPRESSION_OF_CLASS`; a class already spelled as a constant maps to itself.

Valence and arousal (hri_msgs/Expression: each in [-1, 1]) come from the class scores with
Russell's circumplex model of affect (J. A. Russell, "A circumplex model of affect", Journal
of Personality and Social Psychology 39(6):1161-1178, 1980). Its abstract names eight
directions on the valence (x) / arousal (y) circle: pleasure 0 deg, excitement 45, arousal 90,
distress 135, displeasure 180, depression 225, sleepiness 270, relaxation 315. Each
expression with a direction here (:data:`CIRCUMPLEX_DEGREES`) is the unit vector at the
named direction its word belongs to: happy = pleasure, surprised = arousal (high arousal,
neither pleasant nor unpleasant), angry and scared = distress, disgusted = displeasure,
sad = depression; neutral is the centre (no affect). Valence/arousal is the score-weighted
mean of these points: a confident "happy" is (1, 0), a face split between happy and
surprised lies between them, and an uncertain face is drawn towards the centre. This is a
coarse placement (anger and fear share a direction; the model was not trained on valence or
arousal), meant for consumers that want the dimensional view of the categorical output.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

#: hri_msgs/Expression's constants used here (value = the constant's string; a test checks
#: them against hri_msgs where it is installed).
NEUTRAL, ANGRY, SAD, HAPPY = "neutral", "angry", "sad", "happy"
SURPRISED, DISGUSTED, SCARED = "surprised", "disgusted", "scared"
EXPRESSIONS = (NEUTRAL, ANGRY, SAD, HAPPY, SURPRISED, DISGUSTED, SCARED)

#: model class name (FER2013, as in the model card) -> REP-155 expression
EXPRESSION_OF_CLASS = {
    "angry": ANGRY, "disgust": DISGUSTED, "fear": SCARED, "happy": HAPPY,
    "neutral": NEUTRAL, "sad": SAD, "surprise": SURPRISED,
} | {name: name for name in EXPRESSIONS}

#: Direction (degrees, counter-clockwise from pleasure) of each expression on Russell's (1980)
#: circumplex, see the module docstring; an expression without one (neutral) is the centre.
CIRCUMPLEX_DEGREES = {
    HAPPY: 0.0,         # pleasure
    SURPRISED: 90.0,    # arousal
    ANGRY: 135.0,       # distress
    SCARED: 135.0,      # distress
    DISGUSTED: 180.0,   # displeasure
    SAD: 225.0,         # depression
}


def expressions_for(class_names: Sequence[str]) -> list[str]:
    """The REP-155 expression of each class; ValueError naming the classes that have none."""
    unknown = [c for c in class_names if c.lower() not in EXPRESSION_OF_CLASS]
    if unknown:
        raise ValueError(
            f"model classes without a REP-155 expression: {', '.join(unknown)} (known: "
            f"{', '.join(sorted(EXPRESSION_OF_CLASS))})")
    return [EXPRESSION_OF_CLASS[c.lower()] for c in class_names]


def circumplex_points(expressions: Sequence[str]) -> list[tuple[float, float]]:
    """(valence, arousal) of each expression: its unit vector, or (0, 0) for the centre."""
    points = []
    for expression in expressions:
        degrees = CIRCUMPLEX_DEGREES.get(expression)
        if degrees is None:
            points.append((0.0, 0.0))
        else:
            rad = math.radians(degrees)
            points.append((math.cos(rad), math.sin(rad)))
    return points


def valence_arousal(scores: Sequence[float], points: Sequence[tuple[float, float]]
                    ) -> tuple[float, float]:
    """The score-weighted mean of the classes' ``points`` (:func:`circumplex_points`): in
    [-1, 1] each. Negative or non-finite scores count as 0; all zero gives (0, 0)."""
    if len(scores) != len(points):
        raise ValueError(f"{len(scores)} scores for {len(points)} classes")
    weights = [float(s) if math.isfinite(s) and s > 0 else 0.0 for s in scores]
    total = sum(weights)
    if total <= 0.0:
        return 0.0, 0.0
    valence = sum(w * p[0] for w, p in zip(weights, points)) / total
    arousal = sum(w * p[1] for w, p in zip(weights, points)) / total
    return max(-1.0, min(1.0, valence)), max(-1.0, min(1.0, arousal))
