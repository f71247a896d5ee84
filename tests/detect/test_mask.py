from hypothesis import given
from hypothesis import strategies as st

from shareguard.detect.mask import _mask_run, mask


def test_nino_keeps_shape_and_ends_only() -> None:
    assert mask("AB 12 34 56 C", "UK_NINO") == "AB ** ** ** C"


def test_email_keeps_first_letters_and_tld() -> None:
    assert mask("corey.killeen@nhs.net", "EMAIL_ADDRESS") == "c****.*******@n**.net"


def test_person_keeps_initials() -> None:
    assert mask("Jane Okafor", "PERSON") == "J*** O*****"


def test_short_values_reveal_at_most_one_character() -> None:
    assert mask("LS1", "UK_POSTCODE") == "L**"


@given(st.text(min_size=1, max_size=60), st.sampled_from(["UK_NHS", "PERSON", "EMAIL_ADDRESS"]))
def test_mask_never_reveals_most_of_a_value(value: str, kind: str) -> None:
    out = mask(value, kind)
    alnum = [ch for ch in " ".join(value.split()) if ch.isalnum()]
    revealed = [ch for ch in out if ch.isalnum()]
    assert len(out) <= 40
    if len(alnum) >= 5 and kind != "PERSON" and kind != "EMAIL_ADDRESS":
        assert len(revealed) <= 3
    if len(alnum) >= 3:
        assert len(revealed) < len(alnum)


def _reference(value: str, head: int, tail: int) -> str:
    """The masking rule one character at a time: letters and digits become
    ``*`` except the first ``head`` and last ``tail`` of them."""
    positions = [i for i, ch in enumerate(value) if ch.isalnum()]
    if len(positions) <= head + tail:
        head, tail = (1, 0) if len(positions) > 2 else (0, 0)
    keep = set(positions[:head]) | set(positions[len(positions) - tail :] if tail else ())
    return "".join(ch if (i in keep or not ch.isalnum()) else "*" for i, ch in enumerate(value))


@given(
    st.one_of(st.text(max_size=30), st.text(alphabet=st.characters(max_codepoint=127))),
    st.integers(0, 6),
    st.integers(0, 6),
)
def test_quick_masking_follows_the_rule(value: str, head: int, tail: int) -> None:
    assert _mask_run(value, head, tail) == _reference(value, head, tail)
