"""Hypothesis strategies for what may arrive on a topic: any bytes, any JSON, and
near-misses of each message schema (right keys, wrong types or ranges)."""

import base64
import json
import uuid
import zlib

from hypothesis import strategies as st

from streams import messages

MAX_SIZE = 2000

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=40)
)
json_values = st.recursive(
    json_scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)
job_ids = st.uuids(version=4).map(str) | st.sampled_from(
    ["", "x", "00000000-0000", str(uuid.UUID(int=0))]
)
versions = st.sampled_from(
    [messages.SCHEMA_VERSION, messages.SCHEMA_VERSION, 0, 2, "1", 1.0, True, None]
)
# Python's json reads integers of any size; float() overflows past about 10**308.
big_ints = st.integers(min_value=-(2**70), max_value=2**70) | st.just(10**400)
small_ints = st.integers(min_value=-3, max_value=messages.MAX_CLAPS + 3)
numbers = big_ints | st.floats(allow_nan=True, allow_infinity=True) | small_ints


@st.composite
def _near_misses(draw, required: dict, optional: dict) -> dict:
    """A message of the schema with edge values of the right types, often with one
    field dropped or swapped for any JSON value."""
    message = {"v": draw(versions)}
    message.update({name: draw(kind) for name, kind in required.items()})
    message.update(draw(st.fixed_dictionaries({}, optional=optional)))
    if message and draw(st.booleans()):
        name = draw(st.sampled_from(sorted(message)))
        if draw(st.booleans()):
            del message[name]
        else:
            message[name] = draw(json_values)
    return message


job_dicts = _near_misses(
    {"id": job_ids, "claps": small_ints},
    {
        "note": st.text(max_size=messages.MAX_NOTE + 20),
        "submitted_at": numbers,
        "fail_at_clap": small_ints,
        "feed": st.text(max_size=messages.MAX_FEED + 8),
    },
)
event_dicts = _near_misses(
    {
        "job": job_ids,
        "type": st.sampled_from([*messages.EVENT_TYPES, "paused", ""]),
        "seq": big_ints,
        "at": numbers,
    },
    {
        "worker": st.text(max_size=200),
        "partition": big_ints | small_ints,
        "offset": big_ints,
        "done": small_ints | big_ints,
        "total": small_ints | big_ints,
        "error": st.text(max_size=100),
        "result": st.binary(max_size=64).map(lambda b: base64.b64encode(b).decode())
        | st.binary(max_size=64).map(lambda b: base64.b64encode(zlib.compress(b)).decode())
        | st.text(max_size=20),
        "result_encoding": st.sampled_from([messages.RESULT_ENCODING, "gzip", ""]),
        "feed": st.text(max_size=messages.MAX_FEED + 8),
    },
)


def encoded(dicts: st.SearchStrategy) -> st.SearchStrategy[bytes]:
    return dicts.map(lambda d: json.dumps(d, allow_nan=True).encode())


def raw_values(near_misses: st.SearchStrategy[dict]) -> st.SearchStrategy[bytes | None]:
    """Anything a topic may carry: no value, any bytes, any JSON, and near-misses."""
    return st.one_of(
        st.none(),
        st.binary(max_size=MAX_SIZE),
        encoded(json_values),
        encoded(near_misses),
        st.sampled_from([b"[" * 100_000, b'{"v":1,"claps":' + b"9" * 5000 + b"}"]),
    )


keys = st.none() | st.binary(max_size=64) | st.uuids().map(lambda u: str(u).encode())
valid_jobs = st.builds(
    messages.JobRequest,
    id=st.uuids(version=4).map(str),
    claps=st.integers(min_value=1, max_value=messages.MAX_CLAPS),
    note=st.text(max_size=messages.MAX_NOTE),
    submitted_at=st.floats(min_value=0, max_value=4e9),
    fail_at_clap=st.none() | small_ints,
).map(messages.JobRequest.encode)

# Once a poison: float() of a 400-digit integer escaped decoding and crashed the slot.
HUGE_TIME = b'{"v":1,"id":"%s","claps":1,"submitted_at":1%s}' % (
    str(uuid.uuid4()).encode(),
    b"0" * 400,
)
