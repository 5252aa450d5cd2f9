"""Steps: small typed, frozen dataclasses with `apply(frame) -> frame` and a JSON round-trip.

Every row carries `ID` (`_id`), a stable integer identity assigned at load time; steps keep it
(rows they add get fresh ids from `fresh_ids`). A step is either row-local (`scope = "row"`,
a pure function of any batch of rows) or global (`scope = "global"`, needs the whole frame and
states the columns it groups by in `group_keys()`), so recipes can later run distributed.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from typing import Any, ClassVar, Literal

import polars as pl

from studio.engine.errors import RecipeError, StepError

ID = "_id"
"""Name of the stable row identity column (UInt64)."""

REGISTRY: dict[str, type[Step]] = {}


def register(name: str):  # noqa: ANN201
    """Class decorator: file a step under its registry key `family.verb`."""

    def wrap(cls: type[Step]) -> type[Step]:
        if name in REGISTRY and REGISTRY[name] is not cls:
            raise RuntimeError(f"step name {name!r} registered twice")
        cls.name = name
        REGISTRY[name] = cls
        return cls

    return wrap


def _to_plain(value: Any) -> Any:
    if isinstance(value, tuple | list):
        return [_to_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _to_plain(v) for k, v in value.items()}
    return value


def _from_plain(value: Any) -> Any:
    if isinstance(value, list):
        return tuple(_from_plain(v) for v in value)
    if isinstance(value, dict):
        return {k: _from_plain(v) for k, v in value.items()}
    return value


class Step:
    """Base of every step. Subclasses are `@register(...)` + `@dataclass(frozen=True, slots=True)`.

    Parameters are dataclass fields with defaults; use tuples (not lists) for sequences so the
    step stays hashable and round-trips exactly through JSON.
    """

    name: ClassVar[str] = ""
    scope: ClassVar[Literal["row", "global"]] = "row"
    row_id_fields: ClassVar[tuple[str, ...]] = ()
    """Parameters holding row ids (`_id` values, an int or a tuple of ints), so they can follow
    the rows when ids move (a source of a combined workspace removed or grown)."""
    row_id_exceptions: ClassVar[tuple[str, ...]] = ()
    """Parameters naming rows the step treats apart (kept by hand, a cluster's chosen row): a
    tuple of ids, or of pairs whose ids (>= 0) name rows (`(member, kept)`, `(member, label)`).
    The ids follow the rows; an id or pair whose row is gone is left out, and the step still
    runs."""
    value_fields: ClassVar[tuple[tuple[str, str], ...]] = ()
    """Parameters holding values of a column (label or task names), each as (value parameter,
    parameter naming that column), so the values follow a rename (a task renamed in the
    Sources view). A value parameter is a tuple of values, a tuple of (value, amount) pairs,
    or a `VALUE=N,...` text."""

    def apply(self, frame: pl.LazyFrame) -> pl.LazyFrame:
        raise NotImplementedError

    def describe(self) -> str:
        """One line in plain words, shown in the Steps view and the data card."""
        return self.name

    def group_keys(self) -> tuple[str, ...]:
        """Columns a global step groups by (empty: the whole frame). Row steps return ()."""
        return ()

    def removal_reasons(self, before: pl.LazyFrame) -> pl.LazyFrame | None:
        """Optional: a frame of (`_id`, `reason`) for rows this step drops from `before`.

        Return None to let the runner find dropped rows itself (reason = `describe()`).
        """
        return None

    def validate(self, schema: pl.Schema) -> None:
        """Raise `StepError` when the step cannot run on a frame with this schema."""

    def with_row_ids(self, move: Callable[[int], int | None]) -> Step | None:
        """This step with the row ids it holds moved by `move` (None: that row is gone).

        None when the step would lose every row it names: a step for rows that no longer
        exist must not run (`rows.keep` with no ids would keep nothing)."""
        if not self.row_id_fields and not self.row_id_exceptions:
            return self
        changes: dict[str, Any] = {
            name: _moved_exceptions(getattr(self, name), move) for name in self.row_id_exceptions
        }
        for name in self.row_id_fields:
            value = getattr(self, name)
            if isinstance(value, tuple):
                moved = tuple(m for m in (move(int(v)) for v in value) if m is not None)  # type: ignore[arg-type]
                if value and not moved:
                    return None
                changes[name] = moved
            else:
                one = move(int(value))
                if one is None:
                    return None
                changes[name] = one
        return dataclasses.replace(self, **changes)  # type: ignore[type-var]

    def with_values_renamed(self, column: str, names: Mapping[str, str | None]) -> Step:
        """This step with the values of `column` it names renamed by `names` (old -> new;
        None: the value is gone, left out).

        Two values renamed into one merge: amounts of (value, amount) pairs add up, plain values
        are kept once."""
        changes: dict[str, Any] = {}
        for value_name, column_name in self.value_fields:
            if getattr(self, column_name) != column:
                continue
            value = getattr(self, value_name)
            renamed = rename_values(value, names)
            if renamed != value:
                changes[value_name] = renamed
        return dataclasses.replace(self, **changes) if changes else self  # type: ignore[type-var]

    # -- JSON -----------------------------------------------------------------------------
    def params(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}  # type: ignore[arg-type]

    def to_json(self) -> dict[str, Any]:
        return {"step": self.name, **_to_plain(self.params())}

    @staticmethod
    def from_json(data: dict[str, Any]) -> Step:
        if not isinstance(data, dict) or "step" not in data:
            raise RecipeError("A recipe step must be an object with a 'step' key.")
        name = data["step"]
        cls = get_step_class(name)
        known = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
        unknown = sorted(set(data) - known - {"step"})
        if unknown:
            raise RecipeError(f"Step {name!r} has unknown parameters: {', '.join(unknown)}.")
        kwargs = {k: _from_plain(v) for k, v in data.items() if k != "step"}
        try:
            return cls(**kwargs)
        except (TypeError, ValueError) as exc:
            raise RecipeError(f"Step {name!r} has bad parameters: {exc}") from exc


def _moved_exceptions(value: Any, move: Callable[[int], int | None]) -> tuple[Any, ...]:
    """`value` (see `Step.row_id_exceptions`) with its ids moved; what names a gone row left out."""

    def one(v: Any) -> Any:
        if isinstance(v, bool) or not isinstance(v, int) or v < 0:
            return v  # a label, or -1 (no row: a cluster rejected)
        return move(v)

    out: list[Any] = []
    for item in value:
        if isinstance(item, tuple):
            moved = tuple(one(v) for v in item)
            if None not in moved:
                out.append(moved)
        elif (m := one(item)) is not None:
            out.append(m)
    return tuple(out)


def rename_values(value: Any, names: Mapping[str, str | None]) -> Any:
    """`value` (see `Step.value_fields`) with the names in `names` renamed (merged on clashes)
    or, mapped to None, left out (a task whose source was removed)."""
    gone = object()

    def renamed(name: Any) -> Any:
        if not isinstance(name, str) or name not in names:
            return name
        new = names[name]
        return gone if new is None else new

    if isinstance(value, str):
        if "=" not in value:
            return value  # a strategy such as `auto`, not a list of names
        pairs: list[tuple[str, str]] = []
        for part in value.split(","):
            name, sep, number = part.rpartition("=")
            if not sep:
                return value
            pairs.append((name.strip(), number.strip()))
        merged: dict[str, str] = {}
        for name, number in pairs:
            new = renamed(name)
            if new is gone:
                continue
            if new in merged:
                try:
                    number = str(int(merged[new]) + int(number))
                except ValueError:
                    return value
            merged[new] = number
        out = ",".join(f"{n}={v}" for n, v in merged.items())
        return value if out == ",".join(f"{n}={v}" for n, v in pairs) else out
    if not isinstance(value, tuple):
        return value
    if value and all(isinstance(v, tuple) and len(v) == 2 for v in value):
        summed: dict[Any, Any] = {}
        for key, amount in value:
            new = renamed(key)
            if new is not gone:
                summed[new] = summed[new] + amount if new in summed else amount
        return tuple(summed.items())
    kept: list[Any] = []
    for v in value:
        new = renamed(v)
        if new is not gone and new not in kept:
            kept.append(new)
    return tuple(kept)


def get_step_class(name: str) -> type[Step]:
    load_all_steps()
    try:
        return REGISTRY[name]
    except KeyError:
        raise RecipeError(f"Unknown step {name!r}.") from None


_LOADED = False


def load_all_steps() -> None:
    """Import every module of `studio.engine.steps` so their steps register."""
    global _LOADED
    if _LOADED:
        return
    import importlib
    import pkgutil

    import studio.engine.steps as package

    for info in pkgutil.iter_modules(package.__path__):
        if not info.name.startswith("_"):
            importlib.import_module(f"{package.__name__}.{info.name}")
    _LOADED = True


def require_columns(schema: pl.Schema, *columns: str) -> None:
    """Raise a StepError naming the missing column and the known ones."""
    missing = [c for c in columns if c and c not in schema]
    if missing:
        known = ", ".join(n for n in schema.names() if n != ID)
        raise StepError(f"No column named {missing[0]!r}; columns are: {known}.")


def id_in(ids: object) -> pl.Expr:
    """`_id` is one of `ids` (a sequence of ints or a Series)."""
    series = ids if isinstance(ids, pl.Series) else pl.Series(list(ids), dtype=pl.UInt64)  # type: ignore[call-overload]
    return pl.col(ID).is_in(series.cast(pl.UInt64).implode())


def fresh_ids(existing: pl.LazyFrame, added: pl.LazyFrame) -> pl.LazyFrame:
    """Give rows a step adds new `_id`s after the largest existing one (deterministic)."""
    start = existing.select(pl.col(ID).max().fill_null(-1).cast(pl.Int64) + 1)
    return (
        added.drop(ID, strict=False)
        .with_row_index("__new")
        .join(start.rename({ID: "__start"}), how="cross")
        .with_columns((pl.col("__start") + pl.col("__new")).cast(pl.UInt64).alias(ID))
        .drop("__new", "__start")
    )
