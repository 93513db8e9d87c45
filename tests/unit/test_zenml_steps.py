"""Steps read as ZenML reads them: outputs, options, names (no stores needed)."""

from __future__ import annotations

from typing import Annotated, Tuple  # noqa: UP035  (ZenML's documentation writes Tuple)

import pytest

from lineagelog.api import PipelineDefinitionError, step


def _output_names(s: object) -> list[str]:
    return [o.name for o in s.outputs]  # type: ignore[attr-defined]


def test_a_tuple_variable_returned_under_a_tuple_annotation_is_one_output_named_output():
    @step
    def pair_step() -> Tuple[int, int]:  # noqa: UP006
        pair = (1, 2)
        return pair

    assert _output_names(pair_step) == ["output"]
    assert pair_step.outputs[0].data_type is tuple


def test_a_tuple_literal_in_return_makes_one_output_per_member():
    @step
    def my_step() -> Tuple[int, int]:  # noqa: UP006
        return 1, 2

    @step
    def bracketed() -> tuple[int, int]:
        return (1, 2)

    assert _output_names(my_step) == ["output_0", "output_1"]
    assert _output_names(bracketed) == ["output_0", "output_1"]


def test_annotated_names_of_a_literal_tuple_return_name_the_outputs():
    @step
    def clean_data() -> Tuple[  # noqa: UP006
        Annotated[list[int], "x_train"],
        Annotated[list[int], "x_test"],
    ]:
        data = [1, 2, 3, 4]
        return data[:3], data[3:]

    assert _output_names(clean_data) == ["x_train", "x_test"]
    assert [o.artifact_name for o in clean_data.outputs] == ["x_train", "x_test"]


def test_a_return_inside_a_nested_function_does_not_make_several_outputs():
    @step
    def wraps() -> tuple[int, int]:
        def helper() -> tuple[int, int]:
            return 1, 2

        return helper()

    assert _output_names(wraps) == ["output"]


def test_an_annotated_tuple_is_one_named_output_whatever_is_returned():
    @step
    def named_pair() -> Annotated[tuple[int, int], "pair"]:
        return 1, 2

    assert _output_names(named_pair) == ["pair"]


def test_a_literal_tuple_return_under_a_variable_length_annotation_is_refused():
    with pytest.raises(PipelineDefinitionError, match="tuple of any length"):

        @step
        def many() -> tuple[int, ...]:
            return 1, 2


def test_a_variable_length_tuple_returned_from_a_variable_is_one_output():
    @step
    def many() -> tuple[int, ...]:
        values = (1, 2, 3)
        return values

    assert _output_names(many) == ["output"]


def test_derived_artifact_names_of_names_with_spaces_are_made_valid():
    from lineagelog.domain.names import check_artifact_name, default_artifact_name

    derived = default_artifact_name("my pipeline", "load data/raw", "output")

    assert derived == "my_pipeline::load_data_raw::output"
    assert check_artifact_name(derived) == derived
    assert default_artifact_name("p", "a:b", "output") == "p::a:b::output"  # valid: kept
