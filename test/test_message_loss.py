"""MessageLoss (gaps in the publishers' sequence numbers) and account_frames (ROS-free)."""

from fer_ros.message_loss import ANSWER_CHAIN, MessageLoss, account_frames


def test_gaps_between_consecutive_numbers_are_lost_messages():
    loss = MessageLoss()
    assert [loss.observe("cam", n) for n in (1, 2, 5, 6, 10)] == [0, 0, 2, 0, 3]
    assert loss.lost == 5 and loss.measured


def test_nothing_before_the_first_message_counts():
    loss = MessageLoss()
    assert loss.observe("cam", 40) == 0          # joined late: 1..39 are not ours
    assert loss.observe("cam", 42) == 1
    assert loss.lost == 1


def test_publishers_are_counted_apart():
    loss = MessageLoss()
    for pub, n in (("a", 1), ("b", 7), ("a", 2), ("b", 9), ("a", 5)):
        loss.observe(pub, n)
    assert loss.lost == 1 + 2                    # b lost 8, a lost 3 and 4


def test_old_or_repeated_numbers_are_not_losses():
    loss = MessageLoss()
    loss.observe("cam", 5)
    assert loss.observe("cam", 5) == 0 and loss.observe("cam", 3) == 0
    assert loss.observe("cam", 6) == 0           # still measured from the highest, 5
    assert loss.lost == 0


def test_restart_forgets_the_publishers_but_keeps_the_total():
    loss = MessageLoss()
    loss.observe("cam", 1)
    loss.observe("cam", 3)
    loss.restart()                               # e.g. deactivate + activate
    assert loss.observe("cam", 50) == 0          # published while not subscribed: no loss
    assert loss.lost == 1


def test_missing_numbers_make_the_count_unknown():
    loss = MessageLoss()
    loss.observe("cam", 1)
    loss.observe("cam", None)
    assert not loss.measured
    other = MessageLoss()
    other.observe("cam", 0)                      # RMW_MESSAGE_INFO_SEQUENCE_NUMBER_UNSUPPORTED
    assert not other.measured
    humble = MessageLoss()
    humble.not_measurable()
    assert not humble.measured


def test_publishers_beyond_the_bound_are_forgotten_oldest_first():
    loss = MessageLoss(max_publishers=2)
    loss.observe("a", 1)
    loss.observe("b", 1)
    loss.observe("c", 1)                         # forgets a
    assert loss.observe("a", 5) == 0             # a counts afresh (a lower bound)
    assert loss.observe("c", 3) == 1


def test_account_frames_adds_up_what_each_node_lost():
    stats = {"camera": {"published": 100},
             "face_detector": {"dropped": 20, "rejected": 3, "failed": 0,
                               "dropped_measured": True, "processed": 77},
             "emotion": {"dropped": 5, "dropped_measured": True, "processed": 72}}
    account = account_frames(100, 72, stats)
    assert account.dropped == 28 == account.accounted
    assert account.measured
    assert list(account.by_node) == list(ANSWER_CHAIN)
    assert account.by_node["face_detector"] == {"dropped": 20, "rejected": 3, "failed": 0}
    assert account.by_node["emotion"] == {"dropped": 5, "rejected": 0, "failed": 0}


def test_account_frames_is_not_measured_when_a_node_cannot_count():
    stats = {"face_detector": {"dropped": 0, "dropped_measured": False},
             "emotion": {"dropped": 0, "dropped_measured": True}}
    assert not account_frames(10, 8, stats).measured
    assert not account_frames(10, 8, {}).measured    # nodes missing: nothing is known
