from readiness.redaction import MASK, Redactor


def test_known_secrets_are_masked_in_any_form():
    redactor = Redactor()
    redactor.add("p@ss word!", None, "abc")  # too short values are ignored
    redactor.add_basic_credentials("riva", "p@ss word!")
    text = "pw=p@ss word! form=p%40ss+word%21 url=p%40ss%20word%21 basic=cml2YTpwQHNzIHdvcmQh abc"
    assert redactor.text(text) == f"pw={MASK} form={MASK} url={MASK} basic={MASK} abc"


def test_sensitive_keys_are_masked_deeply():
    redactor = Redactor()
    data = {"access_token": "t", "nested": [{"Authorization": "Bearer x", "name": "ok"}], "client_secret": "s"}
    assert redactor.mapping(data) == {"access_token": MASK, "nested": [{"Authorization": MASK, "name": "ok"}],
                                      "client_secret": MASK}
