"""Faster loading of Rasa's DIET classifier (start-up time of the Rasa server).

Rasa 3.6 builds a saved TensorFlow model before restoring its weights by *training it for one
step* on one example (``RasaModel.load``: ``compile`` + ``fit``), only so that every variable,
optimizer slots included, exists. In graph mode that traces the whole training function — for
our DIET model about two thirds of the Rasa server's start-up. Running that single step eagerly
creates the same variables without tracing; prediction is traced as before.

Only DIET is loaded this way, and only when the restore proves it: every value in the
checkpoint must have been matched (``assert_consumed``), otherwise the model is built again the
original way. TED is left alone: eagerly, some of its label layers are not created, so the
check would fail anyway.

:func:`install` is called when :mod:`bot.nlu.tokenizer` is imported, which Rasa does before it
instantiates the pipeline, so every process that loads our model (``rasa run``, ``rasa test``,
the tests) gets it.
"""

from __future__ import annotations

import logging
from typing import Any

log = logging.getLogger(__name__)

_installed = False
original_load: Any = None  # Rasa's own RasaModel.load (function), kept for comparison
fast_loads = 0  # DIET models loaded the fast way in this process


def install() -> None:
    """Replace ``RasaModel.load`` for DIET models (idempotent; a no-op on other Rasa versions)."""
    global _installed, original_load
    if _installed:
        return
    import rasa
    import tensorflow as tf
    from rasa.nlu.classifiers.diet_classifier import DIET
    from rasa.utils.tensorflow.constants import LEARNING_RATE, RUN_EAGERLY
    from rasa.utils.tensorflow.data_generator import RasaBatchDataGenerator
    from rasa.utils.tensorflow.models import RasaModel

    if not rasa.__version__.startswith("3.6."):
        log.info("bot.nlu.fast_load.skipped rasa=%s", rasa.__version__)
        return
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
            log.warning("bot.nlu.fast_load.fallback model=%s", cls.__name__)
            return original(cls, model_file_name, model_data_example, predict_data_example,
                            finetune_mode, *args, **kwargs)
        if predict_data_example:
            model.run_inference(predict_data_example)
        global fast_loads
        fast_loads += 1
        return model

    RasaModel.load = classmethod(load)  # type: ignore[method-assign]
    _installed = True
