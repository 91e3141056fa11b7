"""Speed-ups of Rasa 3.6 in its own process, for start-up time and chat latency.

They change nothing Rasa computes; each is checked against Rasa's own code in
tests/rasa/test_rasa_speedups.py. This module is not a training input (it only affects loading
and serving), so editing it does not retrain the model.

**Loading DIET and TED.** Rasa 3.6 builds a saved TensorFlow model before restoring its
weights by *training it for one step* on one example (``RasaModel.load``: ``compile`` + ``fit``),
only so that every variable, optimizer slots included, exists. In graph mode that traces the
whole training function: for our models about half of the Rasa server's start-up (TED alone
≈ 8 s). A served model needs no optimizer. So the model is built by the prediction Rasa runs
after loading anyway (``run_inference`` on the stored example), and the weights are restored
into the variables as that creates them (TensorFlow's deferred restoration).

The restore must prove it: every value in the checkpoint outside the optimizer's state must
have been matched to a variable of the model, and every variable of the model must have a
value in the checkpoint. Otherwise the model is built and loaded again the original way.
Predictions are identical to Rasa's loader (tests/rasa/test_rasa_speedups.py).

**Action results.** Rasa validates every action server response with ``jsonschema.validate``,
which checks the *schema* itself again on every call before it checks the response: about a
quarter of the Rasa server's CPU per chat turn. The same schema is checked once and its
validator reused; the results our action server sends (slot events, "rewind", responses) are
recognised as valid directly, anything else goes to jsonschema.

**TED only when it can matter.** Every user message makes Rasa predict at least two actions
(the answer, then ``action_listen``), and each prediction runs every policy, TED included —
a TensorFlow call, about a quarter of the server's CPU per turn. But when RulePolicy or
MemoizationPolicy is sure (confidence 1.0, as for every turn our rules cover), the ensemble
picks them over TED whatever TED says (higher priority on a tie; TED's softmax confidence is at
most 1.0). The TED node of the prediction graph therefore waits for the other policies and runs
only when its prediction could be chosen (:class:`TedGate`, which states the exact conditions).

**Traced functions called directly.** Each prediction of DIET and TED goes through
``tf.function.__call__``, which re-derives the traced function from the inputs on every call
(binding, type canonicalisation, cache lookup): about a quarter of each model call. The
function has a fixed input signature, so the lookup is made once per model and the traced
function is called directly with the inputs converted exactly as ``tf.function`` converts them.

**Prediction graphs without dask.** Rasa runs its prediction graph (NLU once, policies once per
predicted action) through dask's synchronous scheduler, whose bookkeeping (ordering, state,
callbacks) and a minimal schema recomputed on every run cost about a tenth of a chat turn's
CPU. Prediction graphs are evaluated by a plain recursive evaluator with dask's semantics
(:func:`run_graph_sequentially`) and each minimal schema is computed once; training graphs
keep dask.

**SQL tracker store: no count before each save.** With the SQL tracker store (the cluster's
PostgreSQL), Rasa saves a tracker by first *counting* its stored events of the latest session
(a query with a sub-query, on Rasa's event loop) and inserting the events after that count:
about a fifth of a cluster Rasa's time per turn. The tracker it saves is the one it retrieved
for this message, by the same query, under the conversation's lock, so that count is the
number of events retrieved. It is kept on the tracker at retrieval and set after each save (all
of the tracker's events are stored then); a retrieval that found no event at all means the new
tracker Rasa creates next has none stored either. A tracker that was neither retrieved nor saved
this way is counted Rasa's way. Rows are read and written in bulk: the retrieval selects only
the ``data`` column of Rasa's own query (rows, not one ORM object per event) and a save is one
multi-row INSERT instead of one ORM object per event. On PostgreSQL through psycopg2 both run
as Rasa's own statements, compiled once, on a connection of Rasa's pool in autocommit mode: one
round trip each instead of BEGIN, statement, COMMIT/ROLLBACK in an ORM session (a multi-row
INSERT is atomic on its own).

**Connections to the action server kept alive.** Rasa opens a new HTTP session, and so a new
TCP connection, for every action call, and closes it after the answer. Calls to the action
server now share one session per endpoint and event loop (same headers, authentication and
timeout; no cookie jar, as with a fresh session) whose idle connections are dropped before the
server's keep-alive timeout would close them.

:func:`install` is called when :mod:`bot.nlu.tokenizer` is imported, which Rasa does before it
instantiates the pipeline, so every process that loads our model (``rasa run``, ``rasa test``,
the tests) gets all of them.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import re
import weakref
from typing import Any

log = logging.getLogger(__name__)

_installed = False
original_load: Any = None  # Rasa's own RasaModel.load (function), kept for comparison
fast_loads = 0  # DIET and TED models loaded the fast way in this process
original_build_dask_graph: Any = None  # Rasa's own DaskGraphRunner._build_dask_graph
original_graph_run: Any = None  # Rasa's own DaskGraphRunner.run
original_rasa_predict: Any = None  # Rasa's own RasaModel._rasa_predict
direct_predict_calls = 0  # predictions that called the traced function directly
sql_saves_without_count = 0  # SQL tracker saves that reused the retrieved event count
sql_raw_reads = 0  # ... tracker reads and saves through the raw PostgreSQL statements
sql_raw_writes = 0
original_sql_store: Any = None  # Rasa's own SQLTrackerStore (retrieve, save, _additional_events)
ted_runs = 0  # TED predictions made through the gate in this process
ted_skips = 0  # ... and left out because they could not have been chosen


def install() -> None:
    """Install the speed-ups (idempotent; a no-op on Rasa versions other than 3.6)."""
    global _installed
    if _installed:
        return
    import rasa

    if not rasa.__version__.startswith("3.6."):
        log.info("bot.rasa_speedups.skipped rasa=%s", rasa.__version__)
        return
    _install_fast_load()
    _install_action_result_validator()
    _install_ted_gate()
    _install_direct_predict_call()
    _install_kept_alive_action_calls()
    _install_sequential_graph_runs()
    _install_sql_save_without_count()
    _installed = True


def _install_fast_load() -> None:
    global original_load
    from rasa.utils.tensorflow.constants import RUN_EAGERLY
    from rasa.utils.tensorflow.models import RasaModel
    original = original_load = RasaModel.load.__func__  # type: ignore[attr-defined]

    def load(cls: type[RasaModel], model_file_name: str, model_data_example: Any,
             predict_data_example: Any = None, finetune_mode: bool = False,
             *args: Any, **kwargs: Any) -> RasaModel:
        if finetune_mode or not predict_data_example:
            return original(cls, model_file_name, model_data_example, predict_data_example,
                            finetune_mode, *args, **kwargs)
        model = cls(*args, **kwargs)
        model.run_eagerly = kwargs.get("config", {}).get(RUN_EAGERLY)
        status = model.load_weights(model_file_name)  # restored as the variables appear
        model.run_inference(predict_data_example)
        missing = values_not_restored(status)
        if missing:
            log.warning("bot.rasa_speedups.load_fallback model=%s not_restored=%s",
                        cls.__name__, ",".join(missing[:5]))
            return original(cls, model_file_name, model_data_example, predict_data_example,
                            finetune_mode, *args, **kwargs)
        status.expect_partial()  # the optimizer's state stays unused, knowingly
        global fast_loads
        fast_loads += 1
        return model

    RasaModel.load = classmethod(load)  # type: ignore[method-assign]


def values_not_restored(status: Any) -> list[str]:
    """What a weights restore left out, apart from the optimizer's state: checkpoint keys of
    values no variable took, and ``"<variable name>"`` for variables without a value."""
    try:
        status.assert_existing_objects_matched()
    except AssertionError as e:
        return [f"<{e}>"[:200]]
    checkpoint = getattr(status, "_checkpoint", None)
    graph = getattr(checkpoint, "object_graph_proto", None)
    matched = getattr(checkpoint, "object_by_proto_id", None)
    if graph is None or matched is None:  # another TensorFlow: no proof, no fast load
        return ["<checkpoint internals unavailable>"]
    return [attribute.checkpoint_key
            for node_id, node in enumerate(graph.nodes)
            if node.attributes and node_id not in matched
            for attribute in node.attributes
            if not _OPTIMIZER_STATE.match(attribute.checkpoint_key)]


# The optimizer's variables (of the checkpoint's root model, or of its child "model" as Rasa
# saves them) and optimizer slots attached to variables.
_OPTIMIZER_STATE = re.compile(r"^(?:model/)?optimizer/|.*/\.OPTIMIZER_SLOT/")


def _install_action_result_validator() -> None:
    import jsonschema
    from rasa.core.actions.action import RemoteAction
    from rasa.shared.constants import DOCS_BASE_URL

    schema = RemoteAction.action_response_format_spec()
    validator_class = jsonschema.validators.validator_for(schema)
    validator_class.check_schema(schema)
    validator = validator_class(schema)

    def validate_action_result(self: RemoteAction, result: dict[str, Any]) -> bool:
        if plainly_valid_action_result(result):
            return True
        error = jsonschema.exceptions.best_match(validator.iter_errors(result))
        if error is not None:  # the same error, worded as Rasa words it
            error.message += (". Failed to validate Action server response from API, make sure "
                              "your response from the Action endpoint is valid. For more "
                              f"information about the format visit {DOCS_BASE_URL}/custom-actions")
            raise error
        return True

    RemoteAction._validate_action_result = validate_action_result  # type: ignore[method-assign]


# Events whose schema (rasa.shared.utils.schemas.events) asks for nothing but the event name,
# and the slot event, which needs a string name and a value: what our actions return.
_NAME_ONLY_EVENTS = frozenset({"rewind", "undo", "restart", "reset_slots", "followup"})


def plainly_valid_action_result(result: Any) -> bool:
    """True only if ``result`` is valid under ``RemoteAction.action_response_format_spec()``,
    checked directly for the shapes our action server sends (slot and name-only events,
    object responses). False means "not shown here": jsonschema then decides, so a valid
    result is never rejected and an invalid one gets jsonschema's own error."""
    if type(result) is not dict:
        return False
    responses = result.get("responses", [])
    if type(responses) is not list or any(type(r) is not dict for r in responses):
        return False
    events = result.get("events", [])
    if type(events) is not list:
        return False
    for event in events:
        if type(event) is not dict:
            return False
        name = event.get("event")
        if name == "slot":
            if type(event.get("name")) is not str or "value" not in event:
                return False
        elif name not in _NAME_ONLY_EVENTS:
            return False
        timestamp = event.get("timestamp")
        if timestamp is not None and type(timestamp) not in (int, float):
            return False
        metadata = event.get("metadata")
        if metadata is not None and type(metadata) is not dict:
            return False
    return True


def _install_ted_gate() -> None:
    from rasa.engine.runner.dask import DaskGraphRunner

    global original_build_dask_graph
    original = original_build_dask_graph = DaskGraphRunner.__dict__["_build_dask_graph"]

    def build_dask_graph(self: DaskGraphRunner, schema: Any) -> dict[str, Any]:
        graph = original(self, schema)
        _gate_ted_nodes(graph, schema)
        return graph

    DaskGraphRunner._build_dask_graph = build_dask_graph  # type: ignore[method-assign]


def _gate_ted_nodes(graph: dict[str, Any], schema: Any) -> None:
    """Let every gateable TED node of a policy ensemble wait for the ensemble's other
    policies and run only when its prediction could still win (see :class:`TedGate`)."""
    from rasa.core.policies.ensemble import DefaultPolicyPredictionEnsemble
    from rasa.engine.graph import GraphNode

    for task in list(graph.values()):
        node = task[0] if isinstance(task, tuple) and task else None
        if not (isinstance(node, GraphNode)
                and node._component_class is DefaultPolicyPredictionEnsemble
                and node._fn_name == "combine_predictions_from_kwargs"):
            continue
        policies = [name for key, name in node._inputs.items()
                    if key not in ("tracker", "domain") and name in graph]
        teds = [name for name in policies if _gateable_ted(graph[name][0])]
        others = tuple(name for name in policies if name not in teds)
        for ted in teds:
            # the gate waits for the other policies, so none of them may need TED
            if not others or any(ted in schema._all_dependencies_schema([name])
                                 for name in others):
                continue
            graph[ted] = (TedGate(graph[ted][0], others), *graph[ted][1:], *others)


def _gateable_ted(node: Any) -> bool:
    """A plain TEDPolicy node, loaded, without hooks, that predicts from intents only: its
    prediction is then never an end-to-end or a "no user" prediction, has no events and
    its confidences are a softmax (at most 1.0)."""
    from rasa.core.policies.ted_policy import TEDPolicy
    from rasa.engine.graph import GraphNode
    from rasa.shared.nlu.constants import TEXT
    from rasa.utils.tensorflow.constants import MODEL_CONFIDENCE, SOFTMAX

    if not isinstance(node, GraphNode):
        return False
    component = node._component
    return (type(component) is TEDPolicy and node._fn_name == "predict_action_probabilities"
            and not node._hooks and {"tracker", "domain"} <= node._inputs.keys()
            and TEXT not in component.fake_features
            and component.config.get(MODEL_CONFIDENCE) == SOFTMAX)


class TedGate:
    """Runs a TED node of the prediction graph only when its prediction could be chosen.

    Rasa's ``DefaultPolicyPredictionEnsemble`` picks the prediction with the highest
    (max confidence, policy priority) among the predictions of the highest kind ("no user",
    then end-to-end, then the rest) and adds the mandatory events of all of them. A gateable
    TED prediction (see :func:`_gateable_ted`) is of the last kind, has no events and a
    max confidence of at most 1.0. So when another policy of the ensemble is of a higher kind,
    or is sure (1.0, as RulePolicy and MemoizationPolicy are when a rule or a memorised story
    applies) with a higher priority than TED, TED's prediction cannot change the result and
    is replaced by the one TED gives without a model (no events, all confidences 0.0).

    When the last action was rejected, the ensemble lowers that action's confidence in every
    prediction; TED then always runs.
    """

    def __init__(self, node: Any, others: tuple[str, ...]) -> None:
        self._node = node
        self._others = others

    def __call__(self, *inputs: Any) -> tuple[str, Any]:
        global ted_runs, ted_skips
        received = dict(item for item in inputs if isinstance(item, tuple))
        tracker = received.get(self._node._inputs["tracker"])
        domain = received.get(self._node._inputs["domain"])
        ted = self._node._component
        others = [received.get(name) for name in self._others]
        if tracker is not None and domain is not None and _cannot_win(ted.priority, others,
                                                                       tracker):
            ted_skips += 1
            return self._node._node_name, ted._prediction(ted._default_predictions(domain))
        ted_runs += 1
        return self._node(*inputs)


def _cannot_win(priority: int, others: list[Any], tracker: Any) -> bool:
    from rasa.core.policies.policy import PolicyPrediction
    from rasa.shared.core.events import ActionExecuted, ActionExecutionRejected

    for event in reversed(tracker.events):
        if isinstance(event, ActionExecutionRejected):
            return False
        if isinstance(event, ActionExecuted):
            break
    return any(isinstance(other, PolicyPrediction) and (
        other.is_no_user_prediction or other.is_end_to_end_prediction
        or (other.max_confidence >= 1.0 and other.policy_priority > priority))
        for other in others)


def _install_direct_predict_call() -> None:
    import weakref

    import numpy as np
    import tensorflow as tf
    from keras.utils import tf_utils
    from rasa.shared.constants import DIAGNOSTIC_DATA
    from rasa.utils.tensorflow.models import RasaModel
    from tensorflow.python.eager import context as tf_context
    from tensorflow.python.eager.polymorphic_function import polymorphic_function
    from tensorflow.python.framework.constant_op import convert_to_eager_tensor

    global original_rasa_predict
    original = original_rasa_predict = RasaModel._rasa_predict
    # model -> (its tf.function, the concrete function that function runs, the input specs)
    concrete_functions: weakref.WeakKeyDictionary[Any, tuple[Any, Any, tuple[Any, ...]]] = (
        weakref.WeakKeyDictionary())

    def concrete_for(model: RasaModel, batch_in: tuple[Any, ...]) -> Any:
        function = model._tf_predict_step
        known = concrete_functions.get(model)
        if known is not None and known[0] is function:
            return known[1:] if known[1] is not None else None
        # the traced function tf.function's own _call runs: the one that may not create
        # variables when the first call created them (a model built by its first prediction,
        # as our loader builds it), else the first trace
        if getattr(function, "_created_variables", True) is None:
            return None  # never called: tf.function initialises on the first call
        if function._created_variables and not polymorphic_function.ALLOW_DYNAMIC_VARIABLE_CREATION:
            compiler = getattr(function, "_no_variable_creation_fn", None)
        elif not function._created_variables:
            compiler = getattr(function, "_variable_creation_fn", None)
        else:
            return None
        specs = function.input_signature
        if compiler is None or not specs or len(specs) != 1:
            return None
        # the very lookup tf.function makes on every call (under its lock), made once
        with compiler._lock:
            concrete, flat = compiler._maybe_define_function((batch_in,), {})
        specs = tuple(specs[0])
        if len(flat) != len(specs) or len(specs) != len(batch_in):
            concrete_functions[model] = (function, None, ())  # not this way, Rasa's way
            return None
        concrete_functions[model] = (function, concrete, specs)
        return concrete, specs

    def to_tensor(value: Any, spec: Any) -> Any:
        """tf.function's own input conversion (``function_spec.cast_inputs_to_signature``:
        ``convert_to_tensor`` with the spec's dtype as hint); for an array of exactly that
        dtype this ends in ``convert_to_eager_tensor``, called here without the layers of
        dispatch in between."""
        if type(value) is np.ndarray and value.dtype == spec.dtype.as_numpy_dtype:
            return convert_to_eager_tensor(value, tf_context.context(), spec.dtype)
        return tf.convert_to_tensor(value, dtype_hint=spec.dtype)

    def rasa_predict(self: RasaModel, batch_in: tuple[Any, ...]) -> dict[str, Any]:
        """``RasaModel._rasa_predict``, calling the traced prediction function directly."""
        global direct_predict_calls
        if (self._run_eagerly or not self.prepared_for_prediction
                or self._tf_predict_step is None):
            return original(self, batch_in)
        found = concrete_for(self, batch_in)
        if found is None:
            return original(self, batch_in)
        concrete, specs = found
        if len(batch_in) != len(specs):
            return original(self, batch_in)
        tensors = [to_tensor(value, spec) for value, spec in zip(batch_in, specs, strict=True)]
        if not all(spec.is_compatible_with(t) for spec, t in zip(specs, tensors, strict=True)):
            return original(self, batch_in)  # raises tf.function's own error
        if self._training is not False:
            self._training = False
        outputs = tf_utils.sync_to_numpy_or_python_type(
            concrete._call_flat(tensors, captured_inputs=concrete.captured_inputs))
        if DIAGNOSTIC_DATA in outputs:
            outputs[DIAGNOSTIC_DATA] = self._empty_lists_to_none_in_dict(
                outputs[DIAGNOSTIC_DATA])
        direct_predict_calls += 1
        return outputs

    RasaModel._rasa_predict = rasa_predict  # type: ignore[method-assign]


# Less than the action server's keep-alive timeout (Sanic: 5 s), so a connection is never
# reused just when the server closes it.
ACTION_KEEPALIVE_SECONDS = 2.0
_in_action_call: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "bot_rasa_speedups_in_action_call", default=False)
kept_alive_sessions = 0  # HTTP sessions to action servers opened in this process
original_endpoint_session: Any = None  # Rasa's own EndpointConfig.session


class _Borrowed:
    """``async with`` a kept session without closing it at the end."""

    def __init__(self, session: Any) -> None:
        self._session = session

    async def __aenter__(self) -> Any:
        return self._session

    async def __aexit__(self, *exc: object) -> None:
        return None


def _close_now(session: Any) -> None:
    """Close a kept session without awaiting (its loop may be gone or another one)."""
    connector = session.connector
    if connector is not None and not connector.closed:
        connector._close()


def _install_kept_alive_action_calls() -> None:
    import aiohttp
    from rasa.core.actions.action import RemoteAction
    from rasa.utils.endpoints import DEFAULT_REQUEST_TIMEOUT, EndpointConfig

    global original_endpoint_session
    original_session = original_endpoint_session = EndpointConfig.session
    original_run = RemoteAction.run
    kept = "_bot_kept_session"  # on the endpoint: (loop, headers, basic auth, session)

    def session(self: EndpointConfig) -> Any:
        """Rasa's session per request, but for calls to the action server one kept session
        per endpoint and event loop, so the connection is kept alive between calls. Same
        headers, authentication and timeout; no cookies, as with a fresh session."""
        global kept_alive_sessions
        if not _in_action_call.get():
            return original_session(self)
        loop = asyncio.get_running_loop()
        found = self.__dict__.get(kept)
        if found is not None:
            if (found[0] is loop and found[1] == self.headers and found[2] == self.basic_auth
                    and not found[3].closed):
                return _Borrowed(found[3])
            _close_now(found[3])
        auth = (aiohttp.BasicAuth(self.basic_auth["username"], self.basic_auth["password"])
                if self.basic_auth else None)
        new = aiohttp.ClientSession(
            headers=self.headers, auth=auth,
            timeout=aiohttp.ClientTimeout(total=DEFAULT_REQUEST_TIMEOUT),
            connector=aiohttp.TCPConnector(keepalive_timeout=ACTION_KEEPALIVE_SECONDS),
            cookie_jar=aiohttp.DummyCookieJar())
        self.__dict__[kept] = (loop, dict(self.headers), dict(self.basic_auth), new)
        weakref.finalize(self, _close_now, new)
        kept_alive_sessions += 1
        return _Borrowed(new)

    async def run(self: RemoteAction, *args: Any, **kwargs: Any) -> Any:
        token = _in_action_call.set(True)
        try:
            return await original_run(self, *args, **kwargs)
        finally:
            _in_action_call.reset(token)

    EndpointConfig.session = session  # type: ignore[method-assign]
    RemoteAction.run = run  # type: ignore[method-assign]


def run_graph_sequentially(graph: dict[str, Any], targets: list[str]) -> list[Any]:
    """What ``dask.get`` (the synchronous scheduler) computes for a dask graph: every task
    once, each after the keys it refers to; a tuple whose first item is callable is a task,
    a list is evaluated item by item, a hashable argument that is a key is that key's result,
    anything else is a literal. Exceptions of a task propagate unchanged."""
    results: dict[Any, Any] = {}

    def evaluate(arg: Any) -> Any:
        if isinstance(arg, list):
            return [evaluate(item) for item in arg]
        if type(arg) is tuple and arg and callable(arg[0]):
            return arg[0](*(evaluate(item) for item in arg[1:]))
        try:
            known = arg in graph
        except TypeError:  # not hashable: a literal
            return arg
        return result_of(arg) if known else arg

    def result_of(key: Any) -> Any:
        if key not in results:
            results[key] = evaluate(graph[key])
        return results[key]

    for key in graph:
        result_of(key)
    return [result_of(target) for target in targets]


def _install_sequential_graph_runs() -> None:
    from rasa.engine.exceptions import GraphRunError
    from rasa.engine.runner.dask import DaskGraphRunner
    from rasa.engine.runner.dask import logger as runner_logger

    global original_graph_run
    original_graph_run = DaskGraphRunner.__dict__["run"]
    schemas = "_bot_minimal_schemas"  # on the runner: targets -> minimal graph schema
    predicts = "_bot_predicts"  # on the runner: whether it runs a prediction graph

    def run(self: DaskGraphRunner, inputs: dict[str, Any] | None = None,
            targets: list[str] | None = None) -> dict[str, Any]:
        """``DaskGraphRunner.run`` for prediction graphs, with the minimal schema of each
        target list computed once (the runner's schema never changes) and the graph run by
        :func:`run_graph_sequentially` instead of dask's scheduler, whose bookkeeping cost
        a tenth of a chat turn's CPU. Training graphs run as before."""
        predicting = self.__dict__.get(predicts)
        if predicting is None:  # training graphs keep dask (they have "train" nodes)
            predicting = self.__dict__[predicts] = not any(
                node.fn == "train" for node in self._graph_schema.nodes.values())
        if not predicting:
            return original_graph_run(self, inputs, targets)
        run_targets = targets if targets else self._graph_schema.target_names
        known = self.__dict__.setdefault(schemas, {})
        minimal_schema = known.get(tuple(run_targets))
        if minimal_schema is None:
            minimal_schema = known[tuple(run_targets)] = (
                self._graph_schema.minimal_graph_schema(run_targets))
        run_graph = self._build_dask_graph(minimal_schema)
        if inputs:
            self._add_inputs_to_graph(inputs, run_graph)
        if runner_logger.isEnabledFor(logging.DEBUG):
            runner_logger.debug(f"Running graph with inputs: {inputs}, targets: {targets} "
                                f"and {self._execution_context}.")
        try:
            return dict(run_graph_sequentially(run_graph, run_targets))
        except RuntimeError as e:
            raise GraphRunError("Error running runner.") from e

    DaskGraphRunner.run = run  # type: ignore[method-assign]


# Events of the tracker's latest session known to be in the SQL tracker store (set when
# SQLTrackerStore.retrieve built the tracker, advanced by each save).
_STORED_EVENTS = "_bot_sql_stored_events"


# Senders whose latest retrieval found no stored event at all (per store; Rasa then creates and
# saves a new tracker, whose stored count is therefore 0). Bounded: forgetting one only costs
# Rasa's count query.
_EMPTY_SENDERS = "_bot_sql_empty_senders"
_EMPTY_SENDERS_MAX = 10_000
_RAW_SQL = "_bot_sql_raw_statements"
_SENDER_PLACEHOLDER = "\x00bot-sender\x00"  # stands for the sender id while compiling


def _empty_senders(store: Any) -> set[str]:
    senders = store.__dict__.get(_EMPTY_SENDERS)
    if senders is None or len(senders) > _EMPTY_SENDERS_MAX:
        senders = store.__dict__[_EMPTY_SENDERS] = set()
    return senders


def _event_row(sender_id: str, event: Any, intent_name_key: str) -> dict[str, Any]:
    """The row Rasa's SQLTrackerStore.save stores for an event (same columns, same values)."""
    import json

    data = event.as_dict()
    return {
        "sender_id": sender_id,
        "type_name": event.type_name,
        "timestamp": data.get("timestamp"),
        "intent_name": data.get("parse_data", {}).get("intent", {}).get(intent_name_key),
        "action_name": data.get("name"),
        "data": json.dumps(data),
    }


class _CompiledSelect:
    """One of Rasa's event queries compiled once for the store's dialect; ``bind`` puts the
    sender id into every parameter that held it."""

    def __init__(self, query: Any, dialect: Any) -> None:
        compiled = query.statement.compile(dialect=dialect)
        self.sql = compiled.string
        self._params = dict(compiled.params)
        self._sender_keys = [k for k, v in self._params.items() if v == _SENDER_PLACEHOLDER]
        if not self._sender_keys:
            raise ValueError("the sender id is not a parameter of the query")

    def bind(self, sender_id: str) -> dict[str, Any]:
        params = dict(self._params)
        for key in self._sender_keys:
            params[key] = sender_id
        return params


class _RawStatements:
    """Rasa's SQL tracker store statements on PostgreSQL (psycopg2), run on a pooled connection
    of Rasa's own engine in autocommit mode: one round trip for a read and one for a save (a
    single multi-row INSERT is atomic on its own), instead of a session with BEGIN, the
    statement and COMMIT or ROLLBACK, and without the ORM's per-call query building."""

    COLUMNS = ("sender_id", "type_name", "timestamp", "intent_name", "action_name", "data")

    def __init__(self, store: Any) -> None:
        self._engine = store.engine  # the same object after dispose(): only its pool is new
        dialect = store.engine.dialect
        with store.session_scope() as session:  # builds the queries; no statement is sent
            self.select_latest = _CompiledSelect(store._event_query(
                session, _SENDER_PLACEHOLDER, fetch_events_from_all_sessions=False,
            ).with_entities(store.SQLEvent.data), dialect)
            self.select_all = _CompiledSelect(store._event_query(
                session, _SENDER_PLACEHOLDER, fetch_events_from_all_sessions=True,
            ).with_entities(store.SQLEvent.data), dialect)
        preparer = dialect.identifier_preparer
        columns = ", ".join(preparer.quote(c) for c in self.COLUMNS)
        self.insert_sql = (f"INSERT INTO {preparer.format_table(store.SQLEvent.__table__)} "
                           f"({columns}) VALUES %s")

    def _execute(self, sql: str, work: Any) -> Any:
        import psycopg2
        from sqlalchemy.exc import DBAPIError

        engine = self._engine
        conn = engine.raw_connection()
        dbapi = conn.dbapi_connection
        try:
            dbapi.autocommit = True
            try:
                with dbapi.cursor() as cursor:
                    result = work(cursor)
            finally:
                if not dbapi.closed:
                    dbapi.autocommit = False
        except BaseException as err:
            conn.invalidate()  # a broken connection must not go back to the pool
            if isinstance(err, psycopg2.Error):
                disconnect = engine.dialect.is_disconnect(err, dbapi, None)
                if disconnect:
                    # PostgreSQL went away: the other pooled connections are as dead as this
                    # one. A new pool, as SQLAlchemy's own path does on a disconnect, so only
                    # this turn fails and not one per pooled connection.
                    engine.dispose()
                # The error class Rasa's session path raises (OperationalError, ...), without
                # the parameters: they hold citizens' words.
                raise DBAPIError.instance(sql, None, err, psycopg2.Error, hide_parameters=True,
                                          connection_invalidated=disconnect) from err
            raise
        finally:
            conn.close()  # back to the pool
        return result

    def read(self, sender_id: str, *, all_sessions: bool) -> list[Any]:
        """The ``data`` rows of the sender's events (latest session, or all sessions)."""
        select = self.select_all if all_sessions else self.select_latest
        params = select.bind(sender_id)

        def fetch(cursor: Any) -> list[Any]:
            cursor.execute(select.sql, params)
            return cursor.fetchall()
        return self._execute(select.sql, fetch)

    def insert(self, rows: list[dict[str, Any]]) -> None:
        from psycopg2.extras import execute_values

        values = [tuple(row[c] for c in self.COLUMNS) for row in rows]
        self._execute(self.insert_sql, lambda cursor: execute_values(
            cursor, self.insert_sql, values, page_size=len(values)))


def _raw_statements(store: Any) -> _RawStatements | None:
    """The store's raw statements, or None where Rasa's session path stays (not PostgreSQL
    through psycopg2, or a PostgreSQL schema that Rasa checks for in every session)."""
    import os

    from rasa.core.constants import POSTGRESQL_SCHEMA

    if _RAW_SQL not in store.__dict__:
        dialect = store.engine.dialect
        usable = (dialect.name == "postgresql" and dialect.driver == "psycopg2"
                  and not os.environ.get(POSTGRESQL_SCHEMA))
        store.__dict__[_RAW_SQL] = _RawStatements(store) if usable else None
    return store.__dict__[_RAW_SQL]


def _install_sql_save_without_count() -> None:
    import itertools
    import json

    from rasa.core.tracker_store import SQLTrackerStore
    from rasa.shared.core.trackers import DialogueStateTracker
    from rasa.shared.nlu.constants import INTENT_NAME_KEY

    global original_sql_store
    retrieve, save = SQLTrackerStore._retrieve, SQLTrackerStore.save
    additional_events = SQLTrackerStore._additional_events
    original_sql_store = (retrieve, save, additional_events)

    async def retrieve_rows(self: SQLTrackerStore, sender_id: str,
                            fetch_events_from_all_sessions: bool) -> Any:
        # Rasa's query, but only the one column it reads: rows, not ORM objects.
        global sql_raw_reads
        statements = _raw_statements(self)
        if statements is not None:
            sql_raw_reads += 1
            rows = statements.read(sender_id, all_sessions=fetch_events_from_all_sessions)
        else:
            with self.session_scope() as session:
                rows = self._event_query(
                    session, sender_id,
                    fetch_events_from_all_sessions=fetch_events_from_all_sessions,
                ).with_entities(self.SQLEvent.data).all()
        events = [json.loads(data) for (data,) in rows]
        if not self.domain:
            return None
        if not events:
            if not fetch_events_from_all_sessions:
                # Nothing stored: the tracker Rasa now creates and saves has no stored events.
                _empty_senders(self).add(sender_id)
            return None
        tracker = DialogueStateTracker.from_dict(sender_id, events, self.domain.slots)
        if not fetch_events_from_all_sessions:
            setattr(tracker, _STORED_EVENTS, len(events))
        return tracker

    def known_stored(self: SQLTrackerStore, tracker: Any) -> int | None:
        """How many of the tracker's events are stored, where that is known without a query."""
        stored = getattr(tracker, _STORED_EVENTS, None)
        if stored is None and tracker.sender_id in _empty_senders(self):
            stored = 0
        return None if stored is None or stored > len(tracker.events) else stored

    def additional_events_known(self: SQLTrackerStore, session: Any, tracker: Any) -> Any:
        global sql_saves_without_count
        stored = known_stored(self, tracker)
        if stored is None:
            return additional_events(self, session, tracker)
        sql_saves_without_count += 1
        return itertools.islice(tracker.events, stored, len(tracker.events))

    async def save_rows(self: SQLTrackerStore, tracker: Any) -> None:
        # Rasa's save with one multi-row INSERT instead of one ORM object per event.
        global sql_raw_writes
        await self.stream_events(tracker)
        statements = _raw_statements(self)
        if statements is not None and known_stored(self, tracker) is not None:
            # No count query: the session _additional_events would need is not used.
            rows = [_event_row(tracker.sender_id, event, INTENT_NAME_KEY)
                    for event in self._additional_events(None, tracker)]
            if rows:
                sql_raw_writes += 1
                statements.insert(rows)
        else:
            with self.session_scope() as session:
                rows = [_event_row(tracker.sender_id, event, INTENT_NAME_KEY)
                        for event in self._additional_events(session, tracker)]
                if rows:
                    session.execute(self.SQLEvent.__table__.insert(), rows)
                session.commit()
        _empty_senders(self).discard(tracker.sender_id)
        # Every event of this tracker object is stored now (Rasa assumes as much at its count).
        setattr(tracker, _STORED_EVENTS, len(tracker.events))

    SQLTrackerStore._retrieve = retrieve_rows  # type: ignore[method-assign]
    SQLTrackerStore._additional_events = additional_events_known  # type: ignore[method-assign]
    SQLTrackerStore.save = save_rows  # type: ignore[method-assign]
