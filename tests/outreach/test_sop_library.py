import pytest

from outreach.sop_library import available_versions, get_sop


@pytest.mark.parametrize(
    ("platform", "content_type"),
    [
        ("linkedin", "post"),
        ("linkedin", "carousel"),
        ("instagram", "reel"),
        ("instagram", "story"),
        ("x", "post"),
        ("x", "thread"),
        ("email", "newsletter"),
        ("engagement", "follow_up"),
    ],
)
def test_every_sop_has_the_four_parts(platform, content_type):
    sop = get_sop(platform, content_type)
    assert sop.where and sop.how and sop.tips and sop.common_mistakes
    assert sop.version == available_versions()[-1]


def test_fallback_to_plain_post_and_clear_error():
    assert get_sop("linkedin", "poll").key == "linkedin:post"
    assert get_sop("email", "post").key == "email:newsletter"
    with pytest.raises(KeyError, match="No SOP for tiktok:post"):
        get_sop("tiktok")
