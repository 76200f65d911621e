"""What a result object's names are, from the database's schema.

The C++ result answers "the value of field F" and "the objects of include R",
but not whether R is to-one (an object or None) or to-many (a list): that is
the schema's, where a to-one include is a reference field. ``Shapes`` reads
``schema show --json`` once per Database, when a result first needs it, and
again when a name is unknown to it (the schema changed since).
"""

from __future__ import annotations

import json
import threading
from typing import Callable, Dict, Optional, Set, Tuple


class _Entity:
    __slots__ = ("fields", "references", "relations")

    def __init__(self) -> None:
        self.fields: Set[str] = {"id"}
        self.references: Set[str] = set()
        self.relations: Set[str] = set()


class Shapes:
    """Per entity: its fields, its references (to-one) and its relations (to-many)."""

    def __init__(self, load_schema_json: Callable[[], str]) -> None:
        self._load = load_schema_json
        self._lock = threading.Lock()
        self._entities: Optional[Dict[str, _Entity]] = None

    def invalidate(self) -> None:
        with self._lock:
            self._entities = None

    def _parse(self) -> Dict[str, _Entity]:
        schema = json.loads(self._load())
        entities: Dict[str, _Entity] = {}
        for e in schema.get("entities", []):
            info = _Entity()
            for f in e.get("fields", []):
                info.fields.add(f["name"])
                if f.get("kind") == "reference":
                    info.references.add(f["name"])
            for r in e.get("relations", []):
                info.relations.add(r["name"])
            entities[e["name"]] = info
        return entities

    def _lookup(self, entity: str, name: str) -> Tuple[Optional[_Entity], bool]:
        """The entity's shape, and whether it knows `name`; reloads once on a miss."""
        with self._lock:
            entities = self._entities
        for attempt in range(2):
            if entities is None or attempt == 1:
                entities = self._parse()
                with self._lock:
                    self._entities = entities
            info = entities.get(entity)
            if info is not None and (name in info.fields or name in info.relations):
                return info, True
        return info, False

    def to_one(self, entity: str, name: str) -> Optional[bool]:
        """True for a to-one include (a reference), False for a to-many one,
        None when `name` is not a relation of `entity`."""
        info, known = self._lookup(entity, name)
        if info is None or not known:
            return None
        if name in info.references:
            return True
        if name in info.relations:
            return False
        return None

    def describe_missing(self, entity: str, name: str) -> str:
        """Why `entity.name` has no value in a result object."""
        info, known = self._lookup(entity, name)
        if known:
            return f"{entity}.{name} was not selected by the query"
        return f"{entity} has no field or relation named {name!r}"
