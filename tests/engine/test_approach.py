from __future__ import annotations

import pytest

from studio.engine.approach import DataFigures, estimate, memory_gb, recommend

# LLaMA-Factory's published hardware table, 7B model (GB); it scales linearly with size.
REFERENCE_7B = {"full": 60, "lora": 16, "qlora8": 10, "qlora4": 6}


@pytest.mark.parametrize("size", [0.5, 7, 14, 70])
@pytest.mark.parametrize("method", sorted(REFERENCE_7B))
def test_memory_estimator_matches_reference_table_within_25_percent(
    size: float, method: str
) -> None:
    expected = REFERENCE_7B[method] * size / 7
    assert abs(memory_gb(size, method) - expected) <= 0.25 * expected


def test_estimate_counts_steps_and_time() -> None:
    figures = DataFigures(rows=1000, labelled_rows=1000, train_tokens=3_600_000)
    est = estimate(7, figures, batch=8, throughput_tokens_s=1000)
    assert est.steps_per_epoch == 125
    assert est.hours_per_epoch == pytest.approx(1.0)
    assert est.memory["qlora4"] < est.memory["qlora8"] < est.memory["lora"] < est.memory["full"]


def test_tiny_labelled_set_recommends_prompting_with_reasons() -> None:
    rec = recommend(
        DataFigures(
            rows=60,
            labelled_rows=60,
            classes=4,
            smallest_class=3,
            smallest_class_name="fraud",
            imbalance_ratio=12,
            shape="classification",
        )
    )
    assert rec.approach == "prompting" and rec.method == "prompt"
    assert "60 labelled rows" in rec.reasons[0] and "'fraud' 3 rows" in rec.reasons[0]
    assert any("at least 30 rows in every class" in c for c in rec.would_change)


def test_large_multitask_set_recommends_multitask() -> None:
    rec = recommend(
        DataFigures(
            rows=120_000, labelled_rows=120_000, tasks=4, train_tokens=40_000_000, shape="alpaca"
        )
    )
    assert rec.approach == "multitask"
    assert "4 tasks" in rec.reasons[0]
    assert any("balance" in p.lower() for p in rec.preparation)


def test_small_target_with_other_tasks_can_prefer_transfer_over_task() -> None:
    rec = recommend(DataFigures(rows=900, labelled_rows=900, tasks=2, shape="alpaca"))
    order = [s.approach for s in rec.scores]
    assert order.index("transfer") < order.index("task")


def test_unlabelled_instruction_set_recommends_task_fine_tuning_and_lora() -> None:
    rec = recommend(
        DataFigures(rows=20_000, shape="alpaca", train_tokens=5_000_000), params_b=7, gpu_gb=24
    )
    assert rec.approach == "task"
    assert rec.method == "lora"
    assert "20,000 labelled rows" in rec.reasons[0]


def test_small_gpu_pushes_to_qlora_and_noise_and_duplicates_are_cited() -> None:
    rec = recommend(
        DataFigures(
            rows=5000,
            labelled_rows=5000,
            classes=2,
            smallest_class=2000,
            smallest_class_name="spam",
            label_noise=0.12,
            duplicate_rate=0.2,
            shape="classification",
        ),
        params_b=7,
        gpu_gb=8,
    )
    assert rec.method == "qlora4"
    assert any("12%" in p for p in rec.preparation)
    assert any("20%" in p for p in rec.preparation)
    task = next(s for s in rec.scores if s.approach == "task")
    assert any("labels look wrong" in c for c in task.cons)


def test_chat_set_is_treated_as_labelled_data() -> None:
    rec = recommend(DataFigures(rows=3000, shape="chat"))
    assert rec.approach == "task"
