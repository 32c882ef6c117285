"""Message ids: OpenAI's shape, unguessable, and ordered by creation, whatever the clock does."""

from __future__ import annotations

import itertools
import re
import threading
import time
from collections.abc import Callable, Iterator

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from threadkit.contract import ids

ID_SHAPE = re.compile(r"msg_[0-9A-Za-z]{24}")
SECOND = 1_761_861_545
NS = 1_000_000_000


def clock_of(values_ns: list[int]) -> Callable[[], int]:
    """A clock that returns ``values_ns`` one after the other."""
    readings: Iterator[int] = iter(values_ns)
    return lambda: next(readings)


def stalled_clock(value_ns: int) -> Callable[[], int]:
    return lambda: value_ns


# --- shape --------------------------------------------------------------------------------------------------


def test_given_the_default_factory_when_an_id_is_minted_then_it_is_msg_and_24_base62_characters() -> None:
    for _ in range(200):
        message_id, created_at = ids.default_factory.new(ids.MESSAGE_PREFIX)
        assert ID_SHAPE.fullmatch(message_id), message_id
        assert ids.is_well_formed(message_id, ids.MESSAGE_PREFIX)
        assert abs(created_at - time.time()) < 5


def test_given_the_real_clock_when_an_id_is_minted_then_it_carries_the_current_microsecond() -> None:
    before = time.time_ns() // 1000
    message_id, created_at = ids.IdFactory().new(ids.MESSAGE_PREFIX)
    after = time.time_ns() // 1000
    assert before <= ids.micros_of(message_id, ids.MESSAGE_PREFIX) <= after
    assert created_at == ids.micros_of(message_id, ids.MESSAGE_PREFIX) // 1_000_000


def test_given_a_thread_prefix_when_an_id_is_minted_then_it_is_thread_and_24_base62_characters() -> None:
    thread_id, _ = ids.IdFactory().new(ids.THREAD_PREFIX)
    assert re.fullmatch(r"thread_[0-9A-Za-z]{24}", thread_id)


def test_given_many_ids_in_one_microsecond_then_their_random_parts_differ() -> None:
    factory = ids.IdFactory(clock_ns=stalled_clock(SECOND * NS))
    randoms = {factory.new(ids.MESSAGE_PREFIX)[0][4 + ids.TIME_LENGTH :] for _ in range(1000)}
    assert len(randoms) == 1000


# --- order and created_at -----------------------------------------------------------------------------------


def test_given_a_clock_moving_forward_when_ids_are_minted_then_string_order_is_creation_order() -> None:
    readings = [SECOND * NS + step * 1_234_567 for step in range(500)]
    factory = ids.IdFactory(clock_ns=clock_of(readings))
    minted = [factory.new(ids.MESSAGE_PREFIX) for _ in readings]
    assert [m[0] for m in minted] == sorted(m[0] for m in minted)
    assert len({m[0] for m in minted}) == len(minted)
    assert [m[1] for m in minted] == [r // NS for r in readings]


def test_given_many_ids_minted_in_the_same_microsecond_then_they_are_strictly_increasing() -> None:
    factory = ids.IdFactory(clock_ns=stalled_clock(SECOND * NS + 250_000_000))
    minted = [factory.new(ids.MESSAGE_PREFIX) for _ in range(5000)]
    id_list = [m[0] for m in minted]
    assert all(a < b for a, b in itertools.pairwise(id_list))
    # The factory moves on by one microsecond per id: same second, distinct, ordered time parts.
    assert [ids.micros_of(i, ids.MESSAGE_PREFIX) for i in id_list] == [
        SECOND * 1_000_000 + 250_000 + n for n in range(5000)
    ]
    assert {m[1] for m in minted} == {SECOND}


def test_given_a_clock_that_steps_backwards_when_ids_are_minted_then_they_keep_increasing() -> None:
    readings = [
        (SECOND + 10) * NS,
        (SECOND + 10) * NS + 5_000,
        (SECOND + 3) * NS,  # NTP step back by seven seconds
        (SECOND + 3) * NS,
        (SECOND + 9) * NS,
        (SECOND + 11) * NS,
        (SECOND + 2) * NS,
    ]
    factory = ids.IdFactory(clock_ns=clock_of(readings))
    minted = [factory.new(ids.MESSAGE_PREFIX) for _ in readings]
    id_list = [m[0] for m in minted]
    assert all(a < b for a, b in itertools.pairwise(id_list))
    created = [m[1] for m in minted]
    assert created == sorted(created), "created_at never goes back, so it agrees with the id order"
    for message_id, created_at in minted:
        assert created_at == ids.micros_of(message_id, ids.MESSAGE_PREFIX) // 1_000_000
    assert created == [SECOND + 10] * 5 + [SECOND + 11] * 2


@given(
    st.lists(
        st.tuples(st.integers(0, 5), st.integers(0, 999_999_999)),
        min_size=1,
        max_size=60,
    ).map(lambda pairs: sorted((SECOND + s) * NS + f for s, f in pairs))
)
@settings(max_examples=100, deadline=None, derandomize=True, database=None)
def test_given_a_non_decreasing_clock_then_created_at_is_the_clocks_second_and_ids_are_ordered(
    readings: list[int],
) -> None:
    # Readings a microsecond or more apart never need the factory's bump: created_at is the clock's second.
    spaced = [readings[0]]
    for reading in readings[1:]:
        spaced.append(max(reading, spaced[-1] + 1000))
    factory = ids.IdFactory(clock_ns=clock_of(spaced))
    minted = [factory.new(ids.MESSAGE_PREFIX) for _ in spaced]
    assert [m[1] for m in minted] == [r // NS for r in spaced]
    assert [ids.micros_of(m[0], ids.MESSAGE_PREFIX) for m in minted] == [r // 1000 for r in spaced]
    id_list = [m[0] for m in minted]
    assert id_list == sorted(id_list)
    assert len(set(id_list)) == len(id_list)


# --- encode / decode ----------------------------------------------------------------------------------------


def test_given_the_alphabet_then_it_is_base62_in_ascii_order() -> None:
    assert len(ids.ALPHABET) == 62
    assert list(ids.ALPHABET) == sorted(ids.ALPHABET)
    assert set(ids.ALPHABET) == set("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")


@given(st.integers(1, 30).flatmap(lambda w: st.tuples(st.just(w), st.integers(0, 62**w - 1))))
@settings(max_examples=300, deadline=None, derandomize=True, database=None)
def test_given_a_number_that_fits_when_encoded_and_decoded_then_it_round_trips(
    case: tuple[int, int],
) -> None:
    width, number = case
    text = ids.encode(number, width)
    assert len(text) == width
    assert all(c in ids.ALPHABET for c in text)
    assert ids.decode(text) == number


@given(st.integers(0, 62**24 - 1), st.integers(0, 62**24 - 1))
@settings(max_examples=300, deadline=None, derandomize=True, database=None)
def test_given_two_numbers_when_encoded_then_string_order_is_numeric_order(a: int, b: int) -> None:
    assert (ids.encode(a, 24) < ids.encode(b, 24)) == (a < b)


@pytest.mark.parametrize(
    ("number", "width", "expected"),
    [(0, 3, "000"), (61, 2, "0z"), (62, 2, "10"), (62**3 - 1, 3, "zzz"), (35, 1, "Z"), (36, 1, "a")],
)
def test_given_known_numbers_when_encoded_then_the_digits_are_base62(
    number: int, width: int, expected: str
) -> None:
    assert ids.encode(number, width) == expected
    assert ids.decode(expected) == number


@pytest.mark.parametrize(("number", "width"), [(-1, 5), (62**3, 3), (62**24, 24)])
def test_given_a_number_that_does_not_fit_when_encoded_then_value_error(number: int, width: int) -> None:
    with pytest.raises(ValueError, match="does not fit"):
        ids.encode(number, width)


@pytest.mark.parametrize("text", ["abc-", "_", "é", " 1", "１２"])
def test_given_a_non_base62_character_when_decoded_then_value_error(text: str) -> None:
    with pytest.raises(ValueError, match="not a base-62 digit"):
        ids.decode(text)


# --- neighbour, lowest, highest -----------------------------------------------------------------------------


def test_given_the_lowest_id_when_stepping_down_then_there_is_no_neighbour() -> None:
    lowest = ids.lowest(ids.MESSAGE_PREFIX)
    assert lowest == "msg_" + "0" * 24
    assert ids.neighbour(lowest, ids.MESSAGE_PREFIX, -1) is None
    assert ids.neighbour(lowest, ids.MESSAGE_PREFIX, +1) == "msg_" + "0" * 23 + "1"


def test_given_the_highest_id_when_stepping_up_then_there_is_no_neighbour() -> None:
    highest = ids.highest(ids.MESSAGE_PREFIX)
    assert highest == "msg_" + "z" * 24
    assert ids.neighbour(highest, ids.MESSAGE_PREFIX, +1) is None
    assert ids.neighbour(highest, ids.MESSAGE_PREFIX, -1) == "msg_" + "z" * 23 + "y"


def test_given_a_last_digit_of_z_when_stepping_up_then_it_carries() -> None:
    assert ids.neighbour("msg_" + "0" * 22 + "0z", ids.MESSAGE_PREFIX, +1) == "msg_" + "0" * 22 + "10"
    assert ids.neighbour("msg_" + "0" * 22 + "10", ids.MESSAGE_PREFIX, -1) == "msg_" + "0" * 22 + "0z"


@given(st.integers(1, 62**24 - 2))
@settings(max_examples=200, deadline=None, derandomize=True, database=None)
def test_given_an_inner_id_then_its_neighbours_are_adjacent_well_formed_and_ordered(number: int) -> None:
    value = ids.MESSAGE_PREFIX + ids.encode(number, 24)
    up = ids.neighbour(value, ids.MESSAGE_PREFIX, +1)
    down = ids.neighbour(value, ids.MESSAGE_PREFIX, -1)
    assert up is not None
    assert down is not None
    assert down < value < up
    assert ids.is_well_formed(up, ids.MESSAGE_PREFIX)
    assert ids.is_well_formed(down, ids.MESSAGE_PREFIX)
    assert ids.neighbour(up, ids.MESSAGE_PREFIX, -1) == value
    assert ids.neighbour(down, ids.MESSAGE_PREFIX, +1) == value


# --- is_well_formed -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        "msg_" + "0" * 24,
        "msg_" + "z" * 24,
        "msg_abcDEF0123456789ghiJKLmn",
    ],
)
def test_given_msg_and_24_base62_characters_then_the_id_is_well_formed(value: str) -> None:
    assert ids.is_well_formed(value, ids.MESSAGE_PREFIX)


@pytest.mark.parametrize(
    "value",
    [
        "",
        "msg_",
        "msg_" + "a" * 23,
        "msg_" + "a" * 25,
        "msg-" + "a" * 24,
        "MSG_" + "a" * 24,
        "message_" + "a" * 20,
        "thread_" + "a" * 24,
        "msg_" + "a" * 23 + "-",
        "msg_" + "a" * 23 + "_",
        "msg_" + "a" * 23 + " ",
        "msg_" + "a" * 23 + "é",
        "msg_" + "a" * 23 + "１",  # a full-width digit: a digit, but not base 62
        "msg_abc123",  # OpenAI-era ids of another length are not ours
        " msg_" + "a" * 24,
    ],
)
def test_given_anything_else_then_the_id_is_not_well_formed(value: str) -> None:
    assert not ids.is_well_formed(value, ids.MESSAGE_PREFIX)


def test_given_a_thread_id_then_it_is_well_formed_only_for_the_thread_prefix() -> None:
    value = "thread_" + "Ab1" * 8
    assert ids.is_well_formed(value, ids.THREAD_PREFIX)
    assert not ids.is_well_formed(value, ids.MESSAGE_PREFIX)


# --- concurrency --------------------------------------------------------------------------------------------


def _mint_concurrently(factory: ids.IdFactory, threads: int, per_thread: int) -> list[list[str]]:
    results: list[list[str]] = [[] for _ in range(threads)]
    start = threading.Barrier(threads)

    def work(slot: int) -> None:
        start.wait()
        for _ in range(per_thread):
            results[slot].append(factory.new(ids.MESSAGE_PREFIX)[0])

    workers = [threading.Thread(target=work, args=(n,)) for n in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)
    assert not any(worker.is_alive() for worker in workers)
    return results


@pytest.mark.parametrize(
    "clock",
    [time.time_ns, stalled_clock(SECOND * NS)],
    ids=["real-clock", "stalled-clock"],
)
def test_given_eight_threads_sharing_a_factory_then_ids_are_unique_and_increasing_per_thread(
    clock: Callable[[], int],
) -> None:
    per_thread = 2000
    results = _mint_concurrently(ids.IdFactory(clock_ns=clock), threads=8, per_thread=per_thread)
    everything = [i for result in results for i in result]
    assert len(everything) == 8 * per_thread
    assert len(set(everything)) == len(everything)
    # Not only the whole ids: the time parts are unique too, so the order never rests on the random part.
    assert len({ids.micros_of(i, ids.MESSAGE_PREFIX) for i in everything}) == len(everything)
    for result in results:
        assert len(result) == per_thread
        assert all(a < b for a, b in itertools.pairwise(result))
        assert all(ID_SHAPE.fullmatch(i) for i in result)
