"""Training scripts on tiny fixtures made here: loaders, make_model, train/resume, export,
evaluate."""

import csv
import json
import os

import cv2
import numpy as np
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
keras = pytest.importorskip("keras", reason="Keras/TensorFlow not installed")

from training import data, evaluate, export, swa, train
from training.model import CLASS_NAMES, describe, make_model


def write_image(path, value, size=48, channels=1):
    path.parent.mkdir(parents=True, exist_ok=True)
    shape = (size, size) if channels == 1 else (size, size, channels)
    cv2.imwrite(str(path), np.full(shape, value, dtype=np.uint8))


@pytest.fixture()
def folder_dataset(tmp_path):
    """images/{train,validation}/<class>/ with a corrupt file and a wrong-size colour image."""
    root = tmp_path / "dataset"
    for split, per_class in (("train", 3), ("validation", 2)):
        for label, name in enumerate(CLASS_NAMES):
            for i in range(per_class):
                write_image(root / "images" / split / name / f"{i}.png", 20 + 30 * label)
    write_image(root / "images/train/happy/big_colour.png", 200, size=96, channels=3)
    (root / "images/train/sad/corrupt.jpg").write_bytes(b"not a jpeg at all")
    (root / "images/train/sad/notes.txt").write_text("ignored: not an image")
    return root


def test_folder_layout_loads_both_splits_and_skips_bad_files(folder_dataset):
    splits = data.load_dataset(folder_dataset)
    assert sorted(splits) == ["train", "validation"]
    train_split = splits["train"]
    assert train_split.class_names == CLASS_NAMES
    assert train_split.images.shape == (7 * 3 + 1, 48, 48)
    assert train_split.images.dtype == np.uint8
    assert train_split.skipped == 1
    happy = CLASS_NAMES.index("happy")
    assert train_split.class_counts()[happy] == 4
    resized = train_split.images[train_split.labels == happy]
    assert (resized == 200).all(axis=(1, 2)).sum() == 1
    assert splits["validation"].class_counts().tolist() == [2] * 7


def test_flat_class_folder_is_one_split(folder_dataset):
    splits = data.load_dataset(folder_dataset / "images" / "validation")
    assert list(splits) == ["all"]
    assert len(splits["all"]) == 14


def test_fer2013_csv_maps_its_index_order_to_sorted_names(tmp_path):
    path = tmp_path / "fer2013.csv"
    rows = [(fer_index, usage) for fer_index in range(7)
            for usage in ("Training", "PublicTest", "PrivateTest")]
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["emotion", "pixels", "Usage"])
        for fer_index, usage in rows:
            writer.writerow([fer_index, " ".join([str(10 * fer_index)] * 48 * 48), usage])
        writer.writerow([3, "1 2 3", "Training"])  # not a square image: skipped
    splits = data.load_dataset(path)
    assert sorted(splits) == ["test", "train", "validation"]
    train_split = splits["train"]
    assert len(train_split) == 7
    # FER2013 index 4 is Sad, 6 is Neutral.
    sad_image = train_split.images[train_split.labels == CLASS_NAMES.index("sad")][0]
    neutral_image = train_split.images[train_split.labels == CLASS_NAMES.index("neutral")][0]
    assert sad_image[0, 0] == 40 and neutral_image[0, 0] == 60
    assert train_split.skipped == 1


def test_augmentation_is_seeded_and_keeps_range():
    images = np.random.default_rng(0).integers(0, 256, (16, 48, 48), dtype=np.uint8)
    first = data.Augmentation().apply(images, np.random.default_rng(5))
    second = data.Augmentation().apply(images, np.random.default_rng(5))
    other = data.Augmentation().apply(images, np.random.default_rng(6))
    assert first.shape == images.shape and first.dtype == np.float32
    np.testing.assert_array_equal(first, second)
    assert not np.array_equal(first, other)
    assert first.min() >= 0 and first.max() <= 255


def test_a_stage_from_earlier_weights_draws_new_batches_and_dropout(tmp_path):
    (tmp_path / "a.keras").write_bytes(b"weights of one stage")
    (tmp_path / "b.keras").write_bytes(b"weights of another stage")
    fresh = train.random_stream(1337)
    from_a = train.random_stream(1337, tmp_path / "a.keras")
    assert fresh == [1337] and from_a[0] == 1337
    assert from_a == train.random_stream(1337, tmp_path / "a.keras")  # reproducible
    assert from_a != train.random_stream(1337, tmp_path / "b.keras")

    images = np.random.default_rng(0).integers(0, 256, (32, 48, 48), dtype=np.uint8)
    labels = np.arange(32) % 7

    def first_batch(stream):
        batches = train.AugmentedBatches(images, labels, 7, 8, data.Augmentation(), stream, 0)
        return batches[0][0]

    np.testing.assert_array_equal(first_batch(fresh), first_batch([1337]))
    assert not np.array_equal(first_batch(fresh), first_batch(from_a))
    seeds = {train.process_seed(stream, epoch) for stream in (fresh, from_a) for epoch in (0, 5)}
    assert len(seeds) == 4  # a new stage or a resume never repeats the dropout masks


def expected_parameter_count(num_classes=7):
    """Parameters of the reference CNN from its definition (convs and denses have no bias)."""
    total, channels, side = 0, 1, 48
    for filters, kernel in ((64, 3), (128, 5), (512, 3), (512, 3)):
        total += kernel * kernel * channels * filters + 4 * filters
        channels, side = filters, side // 2
    features = side * side * channels
    for units in (256, 512):
        total += features * units + 4 * units
        features = units
    return total + features * num_classes + num_classes


def test_make_model_matches_the_reference_architecture():
    model = make_model()
    assert model.input_shape == (None, 48, 48, 1)
    assert model.output_shape == (None, 7)
    assert model.count_params() == expected_parameter_count()
    assert model.layers[1].__class__.__name__ == "Rescaling"
    convs = [layer for layer in model.layers if layer.__class__.__name__ == "Conv2D"]
    assert [(c.filters, c.kernel_size) for c in convs] == [
        (64, (3, 3)), (128, (5, 5)), (512, (3, 3)), (512, (3, 3))]
    assert model.optimizer.__class__.__name__ == "Adam"
    assert float(model.optimizer.learning_rate.numpy()) == pytest.approx(1e-3)
    scores = model.predict(np.full((2, 48, 48, 1), 255.0, np.float32), verbose=0)
    np.testing.assert_allclose(scores.sum(axis=1), 1.0, rtol=1e-5)


def test_compact_architecture_stacks_two_narrow_convolutions_a_block(folder_dataset, tmp_path):
    model = make_model(architecture="compact")
    convs = [layer for layer in model.layers if layer.__class__.__name__ == "Conv2D"]
    assert [(c.filters, c.kernel_size) for c in convs] == [
        (f, (3, 3)) for f in (32, 32, 64, 64, 128, 128, 256, 256)]
    assert model.count_params() < make_model().count_params() / 2
    with pytest.raises(ValueError, match="unknown architecture"):
        make_model(architecture="resnet")
    # train.py trains it, and its stochastic weight average is the same architecture
    out = tmp_path / "run"
    assert train.main(["--data", str(folder_dataset), "--out", str(out), "--epochs", "1",
                       "--architecture", "compact", "--swa-start", "1", "--batch-size", "8",
                       "--verbose", "0"]) == 0
    swa = keras.saving.load_model(out / "swa.keras")
    assert swa.count_params() == model.count_params()
    assert "compact CNN" in describe("compact") and "32/3x3 x2" in describe("compact")


def test_equalize_fine_tunes_a_plain_model_and_exports_with_the_same_scores(folder_dataset,
                                                                           tmp_path):
    plain = make_model()
    plain.save(tmp_path / "plain.keras")
    equalized = make_model(equalize=True)
    assert [layer.name for layer in equalized.layers[1:3]] == ["equalize", "rescale"]
    assert equalized.count_params() == plain.count_params()
    out = tmp_path / "run"
    assert train.main(["--data", str(folder_dataset), "--out", str(out), "--epochs", "1",
                       "--batch-size", "8", "--verbose", "0", "--equalize", "on",
                       "--init-from", str(tmp_path / "plain.keras")]) == 0
    trained = out / "last.keras"
    assert keras.saving.load_model(trained).get_layer("equalize").levels == 64
    assert "histogram equalisation (64 levels)" in describe("reference", equalize=True)
    tflite_path = tmp_path / "equalized.tflite"
    tflite_path.write_bytes(export.to_tflite(keras.saving.load_model(trained), int8=False))

    from fer_ros.emotion_classifier import open_model
    images = np.random.default_rng(2).integers(0, 256, (16, 48, 48), dtype=np.uint8)
    assert export.max_output_difference(open_model(trained), open_model(tflite_path),
                                        images) < 1e-4


def test_distillation_mixes_the_teachers_scores_into_each_target(folder_dataset, tmp_path):
    # a teacher whose scores depend on the pixels: the targets must be its scores of the
    # very faces the student gets, mixed with the labels by --teacher-weight
    teacher = intensity_model([20 + 30 * k for k in range(7)])
    images = np.random.default_rng(0).integers(0, 256, (10, 48, 48), dtype=np.uint8)
    labels = np.arange(10) % 7
    batches = train.AugmentedBatches(images, labels, 7, 4, data.Augmentation(), (1, 2), 0,
                                     teacher=teacher, teacher_weight=0.25)
    x, y = batches[0]
    expected = 0.75 * keras.utils.to_categorical(labels[batches.order[:4]], 7) \
        + 0.25 * np.asarray(teacher(x, training=False))
    np.testing.assert_allclose(y, expected, atol=1e-6)
    assert not np.allclose(y, keras.utils.to_categorical(labels[batches.order[:4]], 7))
    # end to end: train.py distils from a saved .keras teacher and records it in its options
    teacher_path = tmp_path / "teacher.keras"
    make_model().save(teacher_path)
    out = tmp_path / "student"
    assert train.main(["--data", str(folder_dataset), "--out", str(out), "--epochs", "1",
                       "--architecture", "compact", "--teacher", str(teacher_path),
                       "--teacher-weight", "0.5", "--batch-size", "8", "--verbose", "0"]) == 0
    options = json.loads((out / "state.json").read_text())["options"]
    assert options["teacher"] == [str(teacher_path)] and options["teacher_weight"] == 0.5
    with pytest.raises(SystemExit, match="teacher-weight"):
        train.main(["--data", str(folder_dataset), "--out", str(tmp_path / "bad"),
                    "--teacher", str(teacher_path), "--teacher-weight", "1.5"])


def test_several_teachers_give_the_mean_of_their_scores(tmp_path):
    # an ensemble teacher: the targets carry the mean of the teachers' scores of each face
    paths = []
    for k, means in enumerate(([20 + 30 * c for c in range(7)], [200 - 25 * c for c in range(7)])):
        paths.append(tmp_path / f"teacher{k}.keras")
        intensity_model(means).save(paths[-1])
    teacher = train.load_teacher([str(p) for p in paths])
    x = np.random.default_rng(1).integers(0, 256, (5, 48, 48, 1)).astype(np.float32)
    each = [np.asarray(keras.saving.load_model(p, compile=False)(x)) for p in paths]
    assert not np.allclose(each[0], each[1])
    np.testing.assert_allclose(teacher(x, training=False), (each[0] + each[1]) / 2, atol=1e-6)
    # one teacher, given as a list or as a run stored it (a string), is that model itself
    for one in ([str(paths[0])], str(paths[0])):
        np.testing.assert_allclose(np.asarray(train.load_teacher(one)(x, training=False)),
                                   each[0], atol=1e-6)


def test_training_writes_checkpoints_history_plots_and_resumes(folder_dataset, tmp_path):
    out = tmp_path / "run"
    common = ["--batch-size", "8", "--verbose", "0"]
    assert train.main(["--data", str(folder_dataset), "--out", str(out), "--epochs", "1"]
                      + common) == 0
    for name in ("last.keras", "best.keras", "history.csv", "state.json", "accuracy.png",
                 "loss.png", "confusion_matrix.png", "report.json"):
        assert (out / name).is_file(), name
    with pytest.raises(SystemExit):  # an existing run is never overwritten
        train.main(["--data", str(folder_dataset), "--out", str(out)] + common)
    assert train.main(["--out", str(out), "--resume", "--epochs", "2"] + common) == 0
    with open(out / "history.csv") as handle:
        epochs = [int(row["epoch"]) for row in csv.DictReader(handle)]
    assert epochs == [1, 2]
    state = json.loads((out / "state.json").read_text())
    assert state["epoch"] == 1 and state["options"]["epochs"] == 2
    assert [part["from_epoch"] for part in state["code_commits"]] == [1, 2]
    report = json.loads((out / "report.json").read_text())
    assert report["num_images"] == 14 and report["class_names"] == list(CLASS_NAMES)


def intensity_model(centres):
    """A fixed model that predicts the class whose centre is nearest the mean pixel value."""
    inputs = keras.Input((48, 48, 1))
    mean = keras.layers.GlobalAveragePooling2D()(inputs)
    logits = keras.layers.Dense(len(centres))(mean)
    model = keras.Model(inputs, keras.layers.Softmax()(logits * 0.05))
    centres = np.asarray(centres, np.float32)
    model.layers[2].set_weights([2 * centres[None, :], -centres ** 2])
    return model


def test_export_parity_and_evaluate_json_with_a_known_answer(tmp_path):
    centres = [20 + 30 * k for k in range(7)]
    model_path = tmp_path / "intensity.keras"
    intensity_model(centres).save(model_path)
    tflite_path = tmp_path / "intensity.tflite"
    tflite_path.write_bytes(export.to_tflite(keras.saving.load_model(model_path), int8=False))
    (tmp_path / "intensity.tflite.json").write_text(json.dumps({"class_names": list(CLASS_NAMES)}))

    from fer_ros.emotion_classifier import open_model
    images = np.random.default_rng(1).integers(0, 256, (32, 48, 48), dtype=np.uint8)
    assert export.max_output_difference(open_model(model_path), open_model(tflite_path),
                                        images) < 1e-4

    root = tmp_path / "flat"
    for label, name in enumerate(CLASS_NAMES):
        write_image(root / name / "a.png", centres[label])
        write_image(root / name / "b.png", centres[label])
    write_image(root / "angry" / "c.png", centres[1])  # an angry face the model calls disgust
    out_json = tmp_path / "metrics.json"
    assert evaluate.main(["--data", str(root), "--model", str(tflite_path),
                          "--json", str(out_json)]) == 0
    metrics = json.loads(out_json.read_text())
    assert metrics["num_images"] == 15
    assert metrics["accuracy"] == pytest.approx(14 / 15)
    assert metrics["confusion_matrix"][0][:2] == [2, 1]
    assert metrics["per_class"]["angry"]["recall"] == pytest.approx(2 / 3, abs=1e-4)
    assert metrics["per_class"]["disgust"]["precision"] == pytest.approx(2 / 3, abs=1e-4)


def test_evaluate_reports_a_missing_model(tmp_path, folder_dataset, capsys):
    code = evaluate.main(["--data", str(folder_dataset), "--model", str(tmp_path / "none.tflite")])
    assert code == 2
    assert "none.tflite" in capsys.readouterr().err


def test_init_from_starts_with_the_given_weights(folder_dataset, tmp_path):
    source = make_model()
    source.save(tmp_path / "source.keras")
    out = tmp_path / "run"
    assert train.main(["--data", str(folder_dataset), "--out", str(out), "--epochs", "1",
                       "--batch-size", "8", "--verbose", "0", "--learning-rate", "0",
                       "--lr-schedule", "constant", "--init-from",
                       str(tmp_path / "source.keras")]) == 0
    trained = keras.saving.load_model(out / "last.keras")
    np.testing.assert_array_equal(trained.get_layer("conv1").get_weights()[0],
                                  source.get_layer("conv1").get_weights()[0])
    options = json.loads((out / "state.json").read_text())["options"]
    assert options["random_stream"] == train.random_stream(1337, tmp_path / "source.keras")


def test_swa_keeps_a_resumable_running_average_and_exports_it(folder_dataset, tmp_path):
    out = tmp_path / "run"
    common = ["--batch-size", "8", "--verbose", "0"]
    assert train.main(["--data", str(folder_dataset), "--out", str(out), "--epochs", "2",
                       "--swa-start", "2"] + common) == 0
    average = swa.RunningAverage(out / "swa_average.npz")
    assert average.epochs == [2]
    epoch2 = keras.saving.load_model(out / "last.keras").get_weights()
    assert train.main(["--out", str(out), "--resume", "--epochs", "3"] + common) == 0
    epoch3 = keras.saving.load_model(out / "last.keras").get_weights()
    average = swa.RunningAverage(out / "swa_average.npz")
    assert average.epochs == [2, 3]
    np.testing.assert_allclose(average.weights[0], (epoch2[0] + epoch3[0]) / 2, atol=1e-6)
    summary = json.loads((out / "swa.json").read_text())
    assert summary["epochs"] == [2, 3] and summary["bn_recalibration_images"] == 22
    assert (out / "swa" / "confusion_matrix.png").is_file()
    swa_model = keras.saving.load_model(out / "swa.keras")
    assert swa_model.count_params() == make_model().count_params()

    models = tmp_path / "models"
    lineage = tmp_path / "lineage.json"
    lineage.write_text(json.dumps([{"stage": 1, "epochs": 28}]))
    earlier = tmp_path / "earlier_stage"
    earlier.mkdir()
    for epoch in (1, 2):
        train.append_history(earlier / "history.csv", {
            "epoch": epoch, "learning_rate": 1e-3, "loss": 1.5, "accuracy": 0.4,
            "val_loss": 1.6, "val_accuracy": 0.3, "seconds": 1.0})
    assert export.main(["--run", str(out), "--data", str(folder_dataset), "--out",
                        str(models), "--max-int8-drop", "100", "--lineage", str(lineage),
                        "--earlier-runs", str(earlier)]) == 0
    with open(models / "training_history.csv") as handle:
        history = list(csv.DictReader(handle))
    assert [(row["epoch"], row["stage"], row["stage_epoch"]) for row in history] == [
        ("1", "1", "1"), ("2", "1", "2"), ("3", "2", "1"), ("4", "2", "2"), ("5", "2", "3")]
    assert history[0]["val_accuracy"] == "0.3"
    assert (models / "accuracy.png").is_file() and (models / "loss.png").is_file()
    card = json.loads((models / "emotion_cnn.keras.json").read_text())
    assert card["earlier_stages"] == [{"stage": 1, "epochs": 28}]
    assert card["training"]["swa_epochs"] == [2, 3]
    assert card["training"]["code_commits"] == \
        json.loads((out / "state.json").read_text())["code_commits"]
    assert card["training"]["weights"].startswith("stochastic weight averaging of epochs 2..3")
    assert (models / "confusion_matrix.png").read_bytes() == \
        (out / "swa" / "confusion_matrix.png").read_bytes()


def test_batchnorm_recalibration_uses_the_data_statistics():
    model = make_model()
    images = np.random.default_rng(3).integers(0, 256, (40, 48, 48), dtype=np.uint8)
    assert swa.recalibrate_batchnorm(model, images, batch_size=8) == 40
    conv1 = keras.Model(model.input, model.get_layer("conv1").output)
    outputs = conv1.predict(images[..., None].astype(np.float32), verbose=0)
    # mean of the five batch means = the mean over all images (equal batch sizes)
    np.testing.assert_allclose(model.get_layer("conv1_bn").moving_mean.numpy(),
                               outputs.mean(axis=(0, 1, 2)), rtol=1e-3, atol=1e-5)
    assert model.get_layer("conv1_bn").momentum == pytest.approx(0.99)   # restored


def test_average_checkpoints_is_the_mean_of_their_weights(tmp_path):
    first, second = make_model(), make_model()
    first.save(tmp_path / "epoch_01.keras")
    second.save(tmp_path / "epoch_02.keras")
    average = swa.average_checkpoints([tmp_path / "epoch_01.keras", tmp_path / "epoch_02.keras"])
    for got, a, b in zip(average, first.get_weights(), second.get_weights()):
        np.testing.assert_allclose(got, (a + b) / 2, atol=1e-6)
