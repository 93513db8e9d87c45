from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import pytest

from lineagelog.api import PipelineDefinitionError, step

if TYPE_CHECKING:
    from decimal import Decimal


def test_unresolvable_named_outputs_are_refused_at_definition():
    with pytest.raises(PipelineDefinitionError, match="cannot read the outputs of step 'bad'"):

        @step
        def bad() -> Annotated[Decimal, "price"]:
            return 1


def test_an_unresolvable_single_type_is_one_output_typed_at_run_time():
    @step
    def fine() -> Decimal:
        return 1

    assert [o.name for o in fine.outputs] == ["output"]
