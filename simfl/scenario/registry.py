"""The algorithm registry: every algorithm a scenario may name, its config and its class.

An algorithm declares itself in its own module, with nothing to edit elsewhere::

    class FedAvgConfig(RoundsSection):
        name: Literal["fedavg"] = "fedavg"
        clients_per_round: int = Field(10, gt=0)

    @register_algorithm
    class FedAvg(Algorithm):
        config_model = FedAvgConfig

Built-in algorithms are found by importing every module under :mod:`simfl.algorithms`;
third-party ones through the entry-point group ``simfl.algorithms`` (an entry point names a
module, whose import registers its algorithms, or an algorithm class, which is registered
with :func:`register_algorithm`, the same function the decorator is). The scenario schema's
algorithm union (:func:`scenario_model`), ``validate``'s list of allowed names, the scenario
reference, ``simfl compare`` and the runner all read this registry.

Modules under :mod:`simfl.algorithms` are imported when a scenario is validated, so they
import torch lazily (inside functions); ``simfl validate`` never loads torch.
"""

from __future__ import annotations

import importlib
import pkgutil
import typing
from collections.abc import Callable
from dataclasses import dataclass
from importlib.metadata import entry_points
from typing import TYPE_CHECKING, Any, TypeVar, overload

from simfl.errors import ScenarioError
from simfl.scenario.algorithm_section import AlgorithmSection

if TYPE_CHECKING:
    from simfl.scenario.schema import Scenario

ENTRY_POINT_GROUP = "simfl.algorithms"
BUILTIN_PACKAGE = "simfl.algorithms"


@dataclass(frozen=True)
class AlgorithmSpec:
    """A registered algorithm: its scenario name, config model and class."""

    name: str
    config: type[AlgorithmSection]
    cls: type
    default: bool = False

    @property
    def summary(self) -> str:
        """Return the first line of the config's docstring (what the algorithm is)."""
        doc = (self.config.__doc__ or self.cls.__doc__ or "").strip()
        return doc.split("\n")[0]


_REGISTRY: dict[str, AlgorithmSpec] = {}
_state = {"discovered": False, "version": 0}
_models: dict[int, type[Any]] = {}

C = TypeVar("C", bound=type)


def config_name(config: type[AlgorithmSection]) -> str:
    """Return the algorithm name a config declares as ``name: Literal["..."]``.

    Raises
    ------
    TypeError
        If the config has no ``name`` field with a single literal value.
    """
    field = config.model_fields.get("name")
    args = typing.get_args(field.annotation) if field is not None else ()
    if (field is None or typing.get_origin(field.annotation) is not typing.Literal
            or len(args) != 1 or not isinstance(args[0], str)):
        raise TypeError(f"{config.__qualname__} must declare its algorithm name as "
                        "name: Literal['<name>'] = '<name>'")
    return args[0]


@overload
def register_algorithm(cls: C, *, default: bool = False) -> C: ...


@overload
def register_algorithm(cls: None = None, *, default: bool = False) -> Callable[[C], C]: ...


def register_algorithm(cls: Any = None, *, default: bool = False) -> Any:
    """Register an algorithm class (decorator, or a plain call from a plugin); return it.

    The class must have ``config_model``, a subclass of :class:`AlgorithmSection` whose
    ``name`` literal is the algorithm's scenario name. ``default=True`` makes it the
    algorithm of a scenario without an ``algorithm`` section (FedAvg).

    Raises
    ------
    TypeError
        If the class has no valid config, or another class already took the name.
    """

    def add(klass: C) -> C:
        config = getattr(klass, "config_model", None)
        if not (isinstance(config, type) and issubclass(config, AlgorithmSection)):
            raise TypeError(f"{klass.__qualname__}.config_model must be a subclass of "
                            "simfl.scenario.algorithm_section.AlgorithmSection")
        name = config_name(config)
        known = _REGISTRY.get(name)
        if known is not None and known.cls is not klass:
            same = (known.cls.__module__, known.cls.__qualname__) == (klass.__module__,
                                                                      klass.__qualname__)
            if not same:
                raise TypeError(f"algorithm name {name!r} of {klass.__module__}."
                                f"{klass.__qualname__} is taken by {known.cls.__module__}."
                                f"{known.cls.__qualname__}; choose another name")
        _REGISTRY[name] = AlgorithmSpec(name, config, klass, default)
        klass.name = name  # type: ignore[attr-defined]
        _state["version"] += 1
        return klass

    return add if cls is None else add(cls)


def unregister_algorithm(name: str) -> None:
    """Remove ``name`` from the registry (for tests of plugins)."""
    if _REGISTRY.pop(name, None) is not None:
        _state["version"] += 1


def discover() -> None:
    """Import the built-in algorithm modules and the ``simfl.algorithms`` entry points (once)."""
    if _state["discovered"]:
        return
    _state["discovered"] = True
    package = importlib.import_module(BUILTIN_PACKAGE)
    for info in pkgutil.walk_packages(package.__path__, BUILTIN_PACKAGE + "."):
        importlib.import_module(info.name)
    load_entry_points()


def load_entry_points() -> None:
    """Register the algorithms of every installed ``simfl.algorithms`` entry point.

    An entry point names a module (importing it registers its algorithms) or an algorithm
    class (registered with :func:`register_algorithm`). Loading twice changes nothing.
    """
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        try:
            loaded = ep.load()
        except Exception as exc:  # a broken plugin must not hide the built-ins
            raise ScenarioError(f"entry point {ep.name!r} = {ep.value!r} in group "
                                f"{ENTRY_POINT_GROUP!r} failed to load: {exc}; fix or "
                                "uninstall that package") from None
        if isinstance(loaded, type):
            register_algorithm(loaded)


def algorithms() -> dict[str, AlgorithmSpec]:
    """Return every registered algorithm by name, in name order."""
    discover()
    return dict(sorted(_REGISTRY.items()))


def algorithm_names() -> tuple[str, ...]:
    """Return the registered algorithm names, sorted."""
    return tuple(algorithms())


def algorithm_spec(name: str) -> AlgorithmSpec:
    """Return the registered algorithm ``name``.

    Raises
    ------
    ScenarioError
        If no algorithm has that name (the message lists the names there are).
    """
    specs = algorithms()
    if name not in specs:
        raise ScenarioError(f"algorithm {name!r} is unknown; choose one of "
                            f"{', '.join(specs)}")
    return specs[name]


def config_of(name: object) -> type[AlgorithmSection] | None:
    """Return the config model of algorithm ``name``, or None if there is no such algorithm."""
    spec = algorithms().get(name) if isinstance(name, str) else None
    return spec.config if spec is not None else None


def default_algorithm() -> AlgorithmSpec:
    """Return the algorithm of a scenario without an ``algorithm`` section."""
    for spec in algorithms().values():
        if spec.default:
            return spec
    raise ScenarioError("no algorithm is registered as the default; give algorithm.name")


def scenario_model() -> type[Scenario]:
    """Return the scenario model whose ``algorithm`` is the union of registered configs.

    A subclass of :class:`~simfl.scenario.schema.Scenario`, made once per registry state.
    """
    from pydantic import Field, create_model

    from simfl.scenario.schema import Scenario

    specs = algorithms()
    version = _state["version"]
    model = _models.get(version)
    if model is not None:
        return model
    configs = tuple(spec.config for spec in specs.values())
    annotation: Any = (configs[0] if len(configs) == 1 else
                       typing.Annotated[typing.Union[configs], Field(discriminator="name")])  # noqa: UP007
    model = create_model(
        "Scenario",
        __base__=Scenario,
        __module__=Scenario.__module__,
        __doc__=Scenario.__doc__,
        algorithm=(annotation, default_algorithm().config.model_validate({})),
    )
    _models.clear()
    _models[version] = model
    return model


def validate_scenario(data: dict[str, Any]) -> Scenario:
    """Return ``data`` validated as a scenario (pydantic's ValidationError if invalid)."""
    return scenario_model().model_validate(data)
