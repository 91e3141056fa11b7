"""Two speed-ups of Rasa 3.6 in its own process, for start-up time and chat latency.

They change nothing Rasa computes; each is checked against Rasa's own code in
tests/rasa/test_rasa_speedups.py. This module is not a training input (it only affects loading
and serving), so editing it does not retrain the model.

**DIET loading.** Rasa 3.6 builds a saved TensorFlow model before restoring its weights by *training it for one
step* on one example (``RasaModel.load``: ``compile`` + ``fit``), only so that every variable,
optimizer slots included, exists. In graph mode that traces the whole training function — for
our DIET model about two thirds of the Rasa server's start-up. Running that single step eagerly
creates the same variables without tracing; prediction is traced as before.

Only DIET is loaded this way, and only when the restore proves it: every value in the
checkpoint must have been matched (``assert_consumed``), otherwise the model is built again the
original way. TED is left alone: eagerly, some of its label layers are not created, so the
check would fail anyway.

**Action results.** Rasa validates every action server response with ``jsonschema.validate``,
which checks the *schema* itself again on every call before it checks the response: about a
quarter of the Rasa server's CPU per chat turn. The same schema is checked once and its
validator reused.

:func:`install` is called when :mod:`bot.nlu.tokenizer` is imported, which Rasa does before it
instantiates the pipeline, so every process that loads our model (``rasa run``, ``rasa test``,
the tests) gets both.
"""

from __future__ import annotations

import logging
from typing import Any

log = logging.getLogger(__name__)

_installed = False
original_load: Any = None  # Rasa's own RasaModel.load (function), kept for comparison
fast_loads = 0  # DIET models loaded the fast way in this process


def install() -> None:
    """Install both speed-ups (idempotent; a no-op on Rasa versions other than 3.6)."""
    global _installed
    if _installed:
        return
    import rasa

    if not rasa.__version__.startswith("3.6."):
        log.info("bot.rasa_speedups.skipped rasa=%s", rasa.__version__)
        return
    _install_fast_diet_load()
    _install_action_result_validator()
    _installed = True


def _install_fast_diet_load() -> None:
    global original_load
    import tensorflow as tf
    from rasa.nlu.classifiers.diet_classifier import DIET
    from rasa.utils.tensorflow.constants import LEARNING_RATE, RUN_EAGERLY
    from rasa.utils.tensorflow.data_generator import RasaBatchDataGenerator
    from rasa.utils.tensorflow.models import RasaModel
    original = original_load = RasaModel.load.__func__  # type: ignore[attr-defined]

    def load(cls: type[RasaModel], model_file_name: str, model_data_example: Any,
             predict_data_example: Any = None, finetune_mode: bool = False,
             *args: Any, **kwargs: Any) -> RasaModel:
        if finetune_mode or not issubclass(cls, DIET):
            return original(cls, model_file_name, model_data_example, predict_data_example,
                            finetune_mode, *args, **kwargs)
        config = kwargs.get("config", {})
        model = cls(*args, **kwargs)
        model.compile(optimizer=tf.keras.optimizers.Adam(config.get(LEARNING_RATE, 0.001)),
                      run_eagerly=True)
        model.fit(RasaBatchDataGenerator(model_data_example, batch_size=1), verbose=False)
        model.run_eagerly = config.get(RUN_EAGERLY)
        status = model.load_weights(model_file_name)
        try:
            status.assert_consumed()
        except AssertionError:
            log.warning("bot.rasa_speedups.diet_fallback model=%s", cls.__name__)
            return original(cls, model_file_name, model_data_example, predict_data_example,
                            finetune_mode, *args, **kwargs)
        if predict_data_example:
            model.run_inference(predict_data_example)
        global fast_loads
        fast_loads += 1
        return model

    RasaModel.load = classmethod(load)  # type: ignore[method-assign]


def _install_action_result_validator() -> None:
    import jsonschema
    from rasa.core.actions.action import RemoteAction
    from rasa.shared.constants import DOCS_BASE_URL

    schema = RemoteAction.action_response_format_spec()
    validator_class = jsonschema.validators.validator_for(schema)
    validator_class.check_schema(schema)
    validator = validator_class(schema)

    def validate_action_result(self: RemoteAction, result: dict[str, Any]) -> bool:
        error = jsonschema.exceptions.best_match(validator.iter_errors(result))
        if error is not None:  # the same error, worded as Rasa words it
            error.message += (". Failed to validate Action server response from API, make sure "
                              "your response from the Action endpoint is valid. For more "
                              f"information about the format visit {DOCS_BASE_URL}/custom-actions")
            raise error
        return True

    RemoteAction._validate_action_result = validate_action_result  # type: ignore[method-assign]
