import numpy as np

from memory_service.topics import Centroids, new_topic_name, slugify


def unit(*xs):
    v = np.array(xs, dtype=np.float32)
    return v / np.linalg.norm(v)


def test_slugify_makes_valid_slugs():
    assert slugify("Marla Quenby lives in Lisbon!") == "marla-quenby-lisbon"
    assert slugify("../../etc/passwd") == "etc-passwd"
    assert slugify("   ") == "general"


def test_new_topic_name_avoids_taken_names():
    assert new_topic_name("Marla bakes", {"marla-bakes"}) == "marla-bakes-2"


def test_nearest_centroid_above_threshold_only():
    c = Centroids(3)
    c.add("cats", unit(1, 0, 0))
    c.add("cats", unit(1, 0.2, 0))
    c.add("cars", unit(0, 0, 1))
    assert c.nearest(unit(1, 0.1, 0), 0.9) == "cats"
    assert c.nearest(unit(0, 1, 0), 0.5) is None


def test_removing_last_member_drops_topic():
    c = Centroids(2)
    c.add("a", unit(1, 0))
    c.add("a", unit(1, 0), -1)
    assert c.nearest(unit(1, 0), 0.0) is None
