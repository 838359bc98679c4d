import numpy as np

from benchmarks.gazetteers import dominant_topics, found_words, main, topic_vector

TOPICS = {"万科A": {"2": 0.8, "10": 0.2}, "周杰伦": {"73": 1.0}, "股票": {"2": 0.5, "89": 0.5}}


def test_substrings_find_names_that_word_segmentation_would_split():
    assert found_words("帮我看看万科A的股票", TOPICS, substrings=True) == ["万科A", "股票"]
    assert "周杰伦" in found_words("放一首周杰伦的歌", TOPICS, substrings=False)


def test_a_messages_topic_vector_sums_its_words_and_is_normalised():
    vector = topic_vector("万科A股票", TOPICS, substrings=True)
    assert vector.shape == (100,)
    assert np.isclose(np.linalg.norm(vector), 1.0)
    assert vector[2] > vector[89] > vector[10] > 0
    assert not topic_vector("今天天气怎么样", TOPICS, substrings=True).any()


def test_only_dominant_topics_become_tokens():
    assert dominant_topics("万科A股票", TOPICS) == "T2"
    assert dominant_topics("你好", TOPICS) == "none"


def test_a_missing_topic_file_is_reported(tmp_path, capsys):
    assert main(["--topics", str(tmp_path / "missing.json")]) == 2
    assert "missing" in capsys.readouterr().out
