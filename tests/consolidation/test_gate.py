from consolidation.gate import GateThresholds, decide, probe_ok, regression_allowance


def test_gate_passes_at_thresholds():
    r = decide([True] * 19 + [False], [True] * 17 + [False] * 3, [True, False], [True, False], GateThresholds())
    assert r.passed and r.taught == 0.95 and r.validation == 0.85 and r.reasons == []


def test_one_validation_miss_does_not_reject_a_small_topic():
    th = GateThresholds()
    small = decide([True] * 8, [True] * 3 + [False], [True], [True], th)  # 3 of 4: 75%, but one miss
    assert small.passed and small.validation == 0.75
    two = decide([True] * 8, [True] * 4 + [False] * 2, [True], [True], th)  # 4 of 6: two misses
    assert not two.passed and any("validation recall 0.667 < 0.85 (2 missed)" in x for x in two.reasons)
    # a perfect bar is a perfect bar
    assert not decide([True] * 8, [True] * 3 + [False], [True], [True], GateThresholds(validation=1.0)).passed


def test_gate_names_each_failure():
    r = decide([True] * 18 + [False] * 2, [True] * 8 + [False] * 2, [True] * 100, [True] * 90 + [False] * 10,
               GateThresholds(probe_enforced=True), failed_facts=["f1"])
    assert not r.passed
    assert any("taught recall 0.900" in x for x in r.reasons)
    assert any("validation recall 0.800" in x for x in r.reasons)
    assert any("probe regression: lost 10 of the 100" in x and "at most 5 allowed" in x for x in r.reasons)
    assert r.failed_facts == ["f1"] and r.probe_allowed_losses == 5


def test_the_allowance_is_the_binomial_bound():
    # Binomial(100, 0.02): P(X <= 4) = 0.949, P(X <= 5) = 0.985
    assert regression_allowance(100, 0.02, 0.95) == 5
    assert regression_allowance(100, 0.02, 0.90) == 4
    assert regression_allowance(120, 0.0) == 0  # no tolerance: any loss rejects
    assert regression_allowance(10, 1.0) == 10


def test_only_losses_count_not_the_base_models_own_mistakes():
    th = GateThresholds(probe_tolerance=0.0, probe_enforced=True)
    assert decide([True], [True], [False, False], [False, False], th).passed  # base wrong, adapter wrong
    assert decide([True], [True], [False, True], [True, True], th).passed  # a gain does not offset anything
    assert not decide([True], [True], [True, False], [False, True], th).passed  # one loss, one gain: a loss
    at_limit = [True] * 95 + [False] * 5
    enforced = GateThresholds(probe_enforced=True)
    assert decide([True], [True], [True] * 100, at_limit, enforced).passed  # 5 of 100 lost: allowed
    assert not decide([True], [True], [True] * 100, at_limit[:-6] + [False] * 6, enforced).passed


def test_a_regression_is_recorded_even_where_the_rule_is_not_enforced():
    lost = decide([True], [True], [True] * 100, [True] * 60 + [False] * 40, GateThresholds())
    assert lost.passed and not lost.regression_ok and lost.probe_adapter == 60 and lost.probe_allowed_losses == 5
    assert decide([True], [True], [True] * 100, [True] * 100, GateThresholds()).regression_ok


def test_probe_alternatives():
    assert probe_ok("There are 7 days.", "seven|7") and probe_ok("Seven days", "seven|7")
    assert not probe_ok("Five", "seven|7") and not probe_ok("17", "seven|7")
