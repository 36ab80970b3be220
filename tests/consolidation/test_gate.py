from consolidation.gate import GateThresholds, decide, probe_ok


def test_gate_passes_at_thresholds():
    r = decide([True] * 19 + [False], [True] * 17 + [False] * 3, [True, False], [True, False], GateThresholds())
    assert r.passed and r.taught == 0.95 and r.paraphrase == 0.85 and r.reasons == []


def test_gate_names_each_failure():
    r = decide([True] * 18 + [False] * 2, [True] * 8 + [False] * 2, [True, True], [True, False],
               GateThresholds(probe_slack=0), failed_facts=["f1"])
    assert not r.passed
    assert any("taught recall 0.900" in x for x in r.reasons)
    assert any("paraphrase recall 0.800" in x for x in r.reasons)
    assert any("probe regression: 1/2 right vs base 2/2" in x for x in r.reasons)
    assert r.failed_facts == ["f1"]


def test_probe_slack_and_base_mistakes_do_not_count_against_adapter():
    assert decide([True], [True], [False, False], [False, False], GateThresholds(probe_slack=0)).passed
    assert decide([True], [True], [True, True], [True, False], GateThresholds(probe_slack=1)).passed
    assert not decide([True], [True], [True, True], [False, False], GateThresholds()).passed


def test_probe_alternatives():
    assert probe_ok("There are 7 days.", "seven|7") and probe_ok("Seven days", "seven|7")
    assert not probe_ok("Five", "seven|7")
