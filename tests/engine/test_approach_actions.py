"""The Approach panel's next action for each recommended approach."""

from __future__ import annotations

from studio.engine.approach import DataFigures, next_action, recommend


def test_each_approach_maps_to_its_preparing_action() -> None:
    figures = DataFigures(rows=40, labelled_rows=40, classes=2, smallest_class=20, tasks=3)
    assert next_action("prompting", figures).action == "open_fewshot"
    assert next_action("transfer", figures).label == "Prepare transfer stages"
    mix = next_action("multitask", figures)
    assert (mix.action, mix.label) == ("open_mixture", "Prepare a 3-task mixture")
    assert next_action("task", figures).action == "export"


def test_small_labelled_data_recommends_the_few_shot_pack() -> None:
    figures = DataFigures(rows=60, labelled_rows=60, classes=3, smallest_class=20)
    rec = recommend(figures)
    assert next_action(rec.approach, figures).label == "Write a few-shot pack"
