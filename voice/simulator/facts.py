"""Every Twilio fact the simulator relies on, in one place, each marked with its source.

``VERIFIED`` facts were read in Twilio's documentation or in twilio-python 9.x
(``twilio/twiml/voice_response.py``, ``twilio/rest/api/v2010/account/call``); the page is named.
``UNVERIFIED`` facts are best guesses (from Twilio-compatible vendors' docs, public request dumps
or experience); they are named constants so that correcting one is a one-line change. When you
confirm or correct one against a live account, move it and cite the source.
"""

from __future__ import annotations

# --- Webhook requests -----------------------------------------------------------------------
API_VERSION = "2010-04-01"  # VERIFIED: ApiVersion param (voice webhooks page)
HTTP_TOTAL_TIMEOUT = 15.0  # VERIFIED: 15 s total for the response (errors/11205)
FORM_CONTENT_TYPE = "application/x-www-form-urlencoded"  # VERIFIED (voice webhooks page)
USER_AGENT = "TwilioProxy/1.1"  # UNVERIFIED: the User-Agent seen in public request dumps
FALLBACK_EXTRA_PARAMS = ("ErrorCode", "ErrorUrl")  # VERIFIED: availability-reliability page
# UNVERIFIED wording of the pre-recorded message heard when no TwiML can be run.
GENERIC_ERROR_MESSAGE = "We are sorry, an application error has occurred. Goodbye."

# --- Error codes ----------------------------------------------------------------------------
ERR_HTTP_RETRIEVAL = 11200  # VERIFIED: "HTTP retrieval failure" (errors dictionary)
ERR_HTTP_CONNECTION = 11205  # VERIFIED: connection failure / 15 s timeout (errors/11205)
# UNVERIFIED which code a 4xx/5xx answer is logged under today: older accounts see 11200,
# newer docs describe 11217 "HTTP error response code". The brief asks for 11200.
ERR_HTTP_STATUS = ERR_HTTP_RETRIEVAL
ERR_DOCUMENT_PARSE = 12100  # VERIFIED: "Document parse failure" (errors/12100)
ERR_ROOT_NOT_RESPONSE = 12102  # VERIFIED: "The root element must be Response" (errors/12102)
ERR_SCHEMA = 12200  # VERIFIED: "Schema validation warning" (errors/12200)
ERR_DIAL_TIMEOUT_VALUE = 13212  # VERIFIED: "Dial: Invalid timeout value"
ERR_DIAL_TIME_LIMIT_VALUE = 13216  # VERIFIED: "Invalid timeLimit value"
ERR_GATHER_FINISH_ON_KEY = 13310  # VERIFIED: "Gather: Invalid finishOnKey value"
ERR_GATHER_NUM_DIGITS = 13314  # VERIFIED: "Gather: Invalid numDigits value"
ERR_GATHER_ACTION_ON_EMPTY = 13338  # VERIFIED: "Gather: Invalid actionOnEmptyResult value"
ERR_QUEUE_FULL = 14207  # VERIFIED: Enqueue on a full queue (errors/14207, see reliability §1.8)
ERR_STATUS_CALLBACK_RESPONSE = 15003  # UNVERIFIED: warning for a failed status callback
# The simulator treats Twilio's schema *warnings* (12200, 13xxx) as fatal: Twilio sometimes
# carries on with a guess, but for our own TwiML any such warning is a bug we want to see.

# --- REST API errors (code, HTTP status) -------------------------------------------------------
REST_AUTH_FAILED = (20003, 401)  # VERIFIED: "Authenticate" (errors dictionary)
REST_NOT_FOUND = (20404, 404)  # VERIFIED: "Not Found"
REST_MISSING_TO = (21201, 400)  # UNVERIFIED code for a missing To
REST_MISSING_FROM = (21213, 400)  # UNVERIFIED code for a missing From
REST_MISSING_URL = (21205, 400)  # UNVERIFIED code for a missing Url/Twiml/ApplicationSid
REST_NOT_IN_PROGRESS = (21220, 400)  # UNVERIFIED: "Call is not in-progress. Cannot redirect."
REST_INVALID_PARAM = (20001, 400)  # UNVERIFIED generic "invalid parameter"
MORE_INFO_URL = "https://www.twilio.com/docs/errors/{code}"  # VERIFIED shape of more_info

# --- Call statuses and status callbacks ------------------------------------------------------
CALL_STATUSES = ("queued", "ringing", "in-progress", "completed", "busy", "failed",
                 "no-answer", "canceled")  # VERIFIED: OpenAPI call_enum_status
CALLBACK_EVENTS = ("initiated", "ringing", "answered", "completed")  # VERIFIED: call_enum_event
DEFAULT_NOUN_CALLBACK_EVENTS = ("completed",)  # VERIFIED: <Number> statusCallbackEvent default
CALLBACK_SOURCE = "call-progress-events"  # UNVERIFIED: seen in Twilio-compatible docs
TIMESTAMP_FORMAT = "%a, %d %b %Y %H:%M:%S +0000"  # UNVERIFIED: RFC 2822, like REST dates
DIRECTION_INBOUND = "inbound"  # VERIFIED
DIRECTION_OUTBOUND_API = "outbound-api"  # UNVERIFIED spelling (ecosystem §4.3)
DIRECTION_OUTBOUND_DIAL = "outbound-dial"  # UNVERIFIED spelling (ecosystem §4.3)
# The number's "call status changes" URL gets only `completed` unless told otherwise (UNVERIFIED
# for inbound numbers; Calls.create defaults StatusCallbackEvent to completed — VERIFIED).
DEFAULT_NUMBER_CALLBACK_EVENTS = ("completed",)
# UNVERIFIED: what the other ringing legs of a simultaneous <Dial> end as once one answers.
LOSING_LEG_STATUS = "canceled"
# UNVERIFIED: the leg status when the called party declines (a browser's call.reject()).
DECLINED_LEG_STATUS = "busy"
# UNVERIFIED: <Reject reason="rejected"> ends the (unanswered) call as this status.
REJECT_STATUS = {"busy": "busy", "rejected": "no-answer"}
# UNVERIFIED: the Dial action is still requested after the caller hung up (its TwiML ignored).
DIAL_ACTION_AFTER_CALLER_HANGUP = True

# --- TwiML defaults ---------------------------------------------------------------------------
GATHER_DEFAULT_TIMEOUT = 5  # VERIFIED (gather page)
GATHER_DEFAULT_FINISH_ON_KEY = "#"  # VERIFIED
GATHER_DEFAULT_INPUT = "dtmf"  # VERIFIED
GATHER_DEFAULT_LANGUAGE = "en-US"  # VERIFIED
GATHER_DEFAULT_SPEECH_CONFIDENCE = "0.9"  # simulator choice: scripted speech is "certain"
SAY_DEFAULT_LANGUAGE = "en-US"  # VERIFIED (say page)
SAY_DEFAULT_VOICE = "man"  # UNVERIFIED default voice name
PAUSE_DEFAULT_LENGTH = 1  # VERIFIED (pause page)
DIAL_DEFAULT_TIMEOUT = 30  # UNVERIFIED (seen in compatible vendors' docs)
DIAL_MAX_TIMEOUT = 600  # UNVERIFIED
DIAL_DEFAULT_TIME_LIMIT = 14400  # UNVERIFIED
DIAL_MAX_SIMULTANEOUS = 10  # VERIFIED: up to 10 <Number>s ring at once (number page)
DIAL_RECORD_VALUES = ("do-not-record", "record-from-answer", "record-from-ringing",
                      "record-from-answer-dual", "record-from-ringing-dual",
                      "true", "false")  # UNVERIFIED list ("true"/"false" are legacy)
RECORD_DEFAULT_TIMEOUT = 5  # UNVERIFIED (seen in compatible vendors' docs)
RECORD_DEFAULT_MAX_LENGTH = 3600  # UNVERIFIED
RECORD_DEFAULT_FINISH_ON_KEY = "1234567890*#"  # UNVERIFIED
ENQUEUE_DEFAULT_MAX_SIZE = 1000  # VERIFIED in the newer enqueue page (older page said 100)
QUEUE_NAME_MAX_LENGTH = 64  # VERIFIED (enqueue page)
# UNVERIFIED: the QueueResult values, and which verbs a waitUrl document may use.
QUEUE_RESULTS = ("bridged", "bridging-in-process", "error", "hangup", "leave", "redirected",
                 "redirected-from-bridged", "queue-full", "system-error")
WAIT_URL_VERBS = frozenset({"Play", "Say", "Pause", "Hangup", "Redirect", "Leave", "Gather"})
QUEUE_URL_VERBS = frozenset({"Play", "Say", "Pause", "Redirect"})  # VERIFIED (queue page)
# <Number url> / <Client url>: TwiML run on the called party after they answer, before the
# bridge (VERIFIED: number page). UNVERIFIED: the verbs it may use, and the DialCallStatus
# when that TwiML hangs up instead of letting the call connect.
DIAL_URL_VERBS = frozenset({"Play", "Say", "Pause", "Gather", "Hangup", "Redirect"})
DIAL_STATUS_URL_NOT_CONNECTED = "no-answer"
CONFERENCE_WAIT_VERBS = frozenset({"Play", "Say", "Pause", "Redirect"})  # UNVERIFIED
CONFERENCE_MIN_PARTICIPANTS = 2  # UNVERIFIED: a conference starts with two participants
CONFERENCE_DEFAULT_MAX_PARTICIPANTS = 250  # UNVERIFIED
# Twilio's default hold music (a classical playlist); the simulator hears it as this "URL".
DEFAULT_HOLD_MUSIC = "twilio:default-hold-music"

# --- Simulator timing model (estimates, not Twilio facts) -------------------------------------
RING_DELAY = 1.0  # seconds from "initiated" to "ringing" on a dialed leg
JAPANESE_CHARS_PER_SECOND = 7.0  # Polly Mizuki/Takumi speak roughly this many kana/kanji a second
WORDS_PER_SECOND = 2.5  # English TTS, about 150 words a minute
SAY_MIN_SECONDS = 0.5
PLAY_DEFAULT_SECONDS = 10.0  # an audio file whose length the test did not state
PLAY_DIGIT_SECONDS = 0.5  # one DTMF tone (or "w") played by <Play digits>
BEEP_SECONDS = 0.5
# UNVERIFIED: DialCallStatus when the caller hangs up while the dialed parties still ring.
DIAL_STATUS_CALLER_GAVE_UP = "canceled"
# UNVERIFIED: the CallStatus sent with the "initiated" status-callback event.
INITIATED_STATUS = "initiated"
# UNVERIFIED: the CallStatus of an inbound call whose caller hangs up before it is answered.
UNANSWERED_HANGUP_STATUS = "canceled"
