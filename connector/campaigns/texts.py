"""What the campaign API says to people (Japanese / English, :mod:`connector.messages`)."""

from __future__ import annotations

from ..messages import Text

NOT_FOUND = Text("キャンペーンが見つかりません。", "No such campaign.")
CONTACT_NOT_FOUND = Text("発信先が見つかりません。", "No such contact.")
NAME_TAKEN = Text("同じ名前のキャンペーンがあります。", "A campaign with this name exists.")
NOT_OUR_NUMBER = Text("当社の電話番号ではありません", "not one of our numbers")
UNKNOWN_AGENTS = Text("登録されていないエージェントです: {names}", "unknown agents: {names}")
UNKNOWN_GROUPS = Text("登録されていないグループです: {names}", "unknown groups: {names}")
BAD_TRANSITION = Text("キャンペーンが「{status}」のため、この操作はできません。",
                      "The campaign is {status}; this is not possible now.")
NOT_ASSIGNED = Text("このキャンペーンの担当ではありません。",
                    "You are not assigned to this campaign.")
NOT_PREVIEW = Text("このキャンペーンはプレビュー発信ではありません。",
                   "This campaign does not dial in preview mode.")
NOT_YOURS = Text("この発信先はあなたに割り当てられていません。",
                 "This contact is not assigned to you.")
NOT_IN_STATE = Text("この発信先は今この操作ができません（状態: {state}）。",
                    "This contact cannot do this now (state: {state}).")
OUTSIDE_WINDOW = Text("発信時間外です。", "Outside the campaign's calling hours.")
AGENT_BUSY = Text("待機中ではないため発信できません。", "You are not available (待機), so you "
                  "cannot dial now.")
ALREADY_TAKEN = Text("この発信先は他の操作中です。", "This contact was taken meanwhile.")
REFUSED = Text("この番号には発信できません（{code}）。", "This number may not be called ({code}).")
UNKNOWN_RESULT = Text("このキャンペーンにない結果です", "not a result of this campaign")
BAD_RECALL = Text("10m・1h・1d のどれか、または日時（タイムゾーン付き ISO 形式）で指定してください",
                  "after: 10m, 1h or 1d, or at: an ISO time with a time zone")
RECALL_IN_PAST = Text("過去の日時は指定できません", "must be in the future")
BAD_RECALL_FOR = Text("me か campaign を指定してください", "me or campaign")
NO_CONTACTS_FILE = Text("CSV ファイルを本文または file で送ってください。",
                        "Send the CSV file as the body or as the form field file.")
IMPORT_REJECTED = Text("{count} 行に問題があるため、取り込みませんでした。修正して再度送るか、"
                       "skip_invalid=true で正しい行だけ取り込んでください。",
                       "{count} rows have problems, so nothing was imported. Fix them and send "
                       "again, or pass skip_invalid=true to import only the valid rows.")
LIST_ERROR = Text("{message_ja}", "{message_en}")
BAD_NUMBER = Text("電話番号が正しくありません", "not a valid phone number")
