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


# -- options: configure, with_options, and what is refused ------------------------------


def test_step_configure_changes_the_step_and_returns_it():
    @step
    def svc_trainer(gamma: float = 0.001) -> float:
        return gamma

    configured = svc_trainer.configure(enable_cache=False, parameters={"gamma": 0.01})

    assert configured is svc_trainer
    assert (svc_trainer.enable_cache, svc_trainer.parameters) == (False, {"gamma": 0.01})


def test_step_with_options_returns_a_changed_copy_and_leaves_the_step_alone():
    @step
    def svc_trainer(gamma: float = 0.001) -> float:
        return gamma

    copy = svc_trainer.with_options(name="trainer", parameters={"gamma": 0.5})

    assert (copy.name, copy.parameters) == ("trainer", {"gamma": 0.5})
    assert (svc_trainer.name, svc_trainer.parameters) == ("svc_trainer", {})


def test_configure_merges_dict_options_unless_merge_is_false():
    @step
    def tagged(a: int = 0, b: int = 0) -> int:
        return a + b

    tagged.configure(parameters={"a": 1})
    tagged.configure(parameters={"b": 2})
    merged = dict(tagged.parameters)
    tagged.configure(parameters={"b": 3}, merge=False)

    assert merged == {"a": 1, "b": 2}
    assert tagged.parameters == {"b": 3}


@pytest.mark.parametrize(
    ("option", "value", "says"),
    [
        ("model", "my_model", "Model Control Plane"),
        ("settings", {"docker": {"requirements": ["scikit-learn"]}}, "Docker"),
        ("step_operator", "sagemaker", "or on Dask with executor=.dask."),
        ("on_failure", "notify", "lineagelog does not support it"),
    ],
)
def test_options_of_zenml_parts_lineagelog_lacks_are_refused_with_what_to_do(option, value, says):
    with pytest.raises(PipelineDefinitionError, match=f"option {option}=.*{says}"):

        @step(**{option: value})
        def trainer() -> int:
            return 1


def test_pipeline_options_of_zenml_parts_lineagelog_lacks_are_refused():
    from lineagelog.api import pipeline

    @pipeline
    def training() -> None:
        pass

    with pytest.raises(PipelineDefinitionError, match=r"option schedule=.*scheduler"):
        training.with_options(schedule="0 * * * *")
    with pytest.raises(PipelineDefinitionError, match=r"option model=.*Model Control Plane"):
        training.configure(model="production")


def test_empty_settings_are_accepted_as_zenml_code_often_passes_them():
    @step(settings={})
    def plain() -> int:
        return 1

    assert plain.name == "plain"


def test_a_configured_parameter_the_function_does_not_take_is_refused():
    @step
    def trainer(gamma: float) -> float:
        return gamma

    with pytest.raises(PipelineDefinitionError, match=r"\['alpha'\].*\['gamma'\]"):
        trainer.configure(parameters={"alpha": 1})


def test_enable_cache_must_be_a_boolean():
    @step
    def trainer() -> int:
        return 1

    with pytest.raises(PipelineDefinitionError, match="enable_cache='no' must be True, False"):
        trainer.configure(enable_cache="no")  # type: ignore[arg-type]
