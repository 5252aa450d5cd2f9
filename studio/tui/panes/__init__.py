"""The tabs, in order. Each entry: (tab id, title, "module:Class"). Imported lazily."""

PANES: list[tuple[str, str, str]] = [
    ("browse", "Browse", "studio.tui.panes.browse:BrowsePane"),
    ("filter", "Filter", "studio.tui.panes.filter:FilterPane"),
    ("clean", "Clean", "studio.tui.panes.clean:CleanPane"),
    ("augment", "Augment", "studio.tui.panes.augment:AugmentPane"),
    ("balance", "Balance", "studio.tui.panes.balance:BalancePane"),
    ("tokens", "Tokens", "studio.tui.panes.tokens:TokensPane"),
    ("quality", "Quality", "studio.tui.panes.quality:QualityPane"),
    ("approach", "Approach", "studio.tui.panes.approach:ApproachPane"),
    ("export", "Export", "studio.tui.panes.export:ExportPane"),
]


def load_pane(spec: str) -> type:
    import importlib

    module, _, cls = spec.partition(":")
    return getattr(importlib.import_module(module), cls)
