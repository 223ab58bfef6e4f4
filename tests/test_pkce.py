"""Proof Key for Code Exchange (RFC 7636; RFC 9700 §2.1.1 and §4.8.2)."""

import base64

import pytest
from django.test import override_settings

from oauth_provider.errors import InvalidGrant, InvalidRequest
from oauth_provider.pkce import s256, validate_challenge, verify_code_verifier

# RFC 7636 Appendix B: the verifier is the base64url of the 32 octets listed there.
VERIFIER = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
CHALLENGE = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
APPENDIX_B_OCTETS = bytes(
    [
        116, 24, 223, 180, 151, 153, 224, 37, 79, 250, 96, 125, 216, 173, 187, 186,
        22, 212, 37, 77, 105, 214, 191, 240, 91, 88, 5, 88, 83, 132, 141, 121,
    ]
)  # fmt: skip

PLAIN_ENABLED = override_settings(OAUTH_PROVIDER={"PKCE_CODE_CHALLENGE_METHODS": ["S256", "plain"]})


def test_verifier_is_the_rfc_7636_appendix_b_one():
    assert base64.urlsafe_b64encode(APPENDIX_B_OCTETS).rstrip(b"=").decode() == VERIFIER


def test_s256_matches_rfc_7636_appendix_b():
    assert s256(VERIFIER) == CHALLENGE


class TestValidateChallenge:
    def test_s256_challenge_is_accepted(self):
        assert validate_challenge(CHALLENGE, "S256", required=True) == "S256"

    def test_challenge_required_for_public_clients(self):
        with pytest.raises(InvalidRequest) as excinfo:
            validate_challenge(None, None, required=True)
        assert excinfo.value.error == "invalid_request"

    def test_method_without_challenge_required_is_invalid_request(self):
        with pytest.raises(InvalidRequest):
            validate_challenge(None, "S256", required=True)

    def test_no_challenge_allowed_when_not_required(self):
        assert validate_challenge(None, None, required=False) == ""

    def test_method_without_challenge_is_invalid_request(self):
        with pytest.raises(InvalidRequest):
            validate_challenge(None, "S256", required=False)

    def test_plain_refused_by_default(self):
        with pytest.raises(InvalidRequest):
            validate_challenge(VERIFIER, "plain", required=True)

    def test_missing_method_means_plain_and_is_refused_by_default(self):
        # RFC 7636 §4.3: code_challenge_method "defaults to plain if not present".
        with pytest.raises(InvalidRequest):
            validate_challenge(CHALLENGE, None, required=True)

    def test_empty_method_means_plain_and_is_refused_by_default(self):
        with pytest.raises(InvalidRequest):
            validate_challenge(CHALLENGE, "", required=True)

    @PLAIN_ENABLED
    def test_plain_accepted_when_enabled(self):
        assert validate_challenge(VERIFIER, "plain", required=True) == "plain"

    @PLAIN_ENABLED
    def test_missing_method_means_plain_when_enabled(self):
        assert validate_challenge(VERIFIER, None, required=True) == "plain"

    @pytest.mark.parametrize("method", ["s256", "S512", "SHA256", "PLAIN"])
    def test_unknown_method_is_invalid_request(self, method):
        with pytest.raises(InvalidRequest):
            validate_challenge(CHALLENGE, method, required=True)

    @pytest.mark.parametrize(
        "challenge",
        [
            "",
            "short",
            "a" * 42,
            "a" * 129,
            CHALLENGE[:-1] + "=",
            CHALLENGE[:-1] + "+",
            CHALLENGE[:-1] + "/",
            CHALLENGE[:-1] + " ",
            CHALLENGE + "\n",
            CHALLENGE[:-1] + "\u00e9",
        ],
    )
    def test_malformed_challenge_is_invalid_request(self, challenge):
        with pytest.raises(InvalidRequest):
            validate_challenge(challenge, "S256", required=True)

    @pytest.mark.parametrize("challenge", ["a" * 43, "a" * 128, "AZaz09-._~" * 5])
    def test_challenge_of_unreserved_characters_43_to_128_long_is_accepted(self, challenge):
        assert validate_challenge(challenge, "S256", required=True) == "S256"


class TestVerifyCodeVerifier:
    def test_rfc_7636_appendix_b_verifier_matches(self):
        verify_code_verifier(VERIFIER, CHALLENGE, "S256")

    def test_wrong_verifier_is_invalid_grant(self):
        with pytest.raises(InvalidGrant) as excinfo:
            verify_code_verifier("x" * 43, CHALLENGE, "S256")
        assert excinfo.value.error == "invalid_grant"

    def test_challenge_as_verifier_is_invalid_grant(self):
        # Someone who saw the authorization request learned only the challenge.
        with pytest.raises(InvalidGrant):
            verify_code_verifier(CHALLENGE, CHALLENGE, "S256")

    def test_missing_verifier_is_invalid_grant(self):
        with pytest.raises(InvalidGrant):
            verify_code_verifier(None, CHALLENGE, "S256")

    @pytest.mark.parametrize(
        "verifier",
        ["", "short", VERIFIER[:42], VERIFIER + "=", VERIFIER[:-1] + "\u00e9", VERIFIER + "\n", "a" * 129],
    )
    def test_malformed_verifier_is_invalid_grant(self, verifier):
        with pytest.raises(InvalidGrant):
            verify_code_verifier(verifier, CHALLENGE, "S256")

    def test_verifier_for_code_without_challenge_is_invalid_grant(self):
        # RFC 9700 §4.8.2: PKCE downgrade.
        with pytest.raises(InvalidGrant):
            verify_code_verifier(VERIFIER, "", "")

    def test_no_verifier_for_code_without_challenge_is_fine(self):
        verify_code_verifier(None, "", "")

    def test_plain_verifier_must_equal_challenge(self):
        verify_code_verifier(VERIFIER, VERIFIER, "plain")
        with pytest.raises(InvalidGrant):
            verify_code_verifier(VERIFIER, VERIFIER[:-1] + "h", "plain")

    def test_s256_challenge_is_not_accepted_as_plain_verifier_of_itself(self):
        with pytest.raises(InvalidGrant):
            verify_code_verifier(VERIFIER, CHALLENGE, "plain")
