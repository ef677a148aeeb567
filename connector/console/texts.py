"""The console's words, Japanese first (the product's default) and English.

The language is ``?lang=`` when given (remembered in a cookie), else that cookie, else the
signed-in user's language, else Japanese.
"""

from __future__ import annotations

from flask import g, request

from ..messages import Text

LANGUAGES = ("ja", "en")
LANG_COOKIE = "cti_console_lang"

ERRORS = {
    "not_signed_in": Text("サインインしてください。", "Sign in first."),
    "console_needs_supervisor": Text("コンソールはスーパーバイザーと管理者だけが使えます。",
                                     "The console is for supervisors and admins only."),
    "not_permitted": Text("この画面・操作の権限がありません。",
                          "Your role may not use this screen or action."),
    "ip_not_allowed": Text("このIPアドレスからは利用できません（IPアドレス制限）。",
                           "Not allowed from this IP address (IP allowlist)."),
    "csrf": Text("画面を読み込み直してから、もう一度操作してください。",
                 "Reload the page, then try again (missing or wrong CSRF token)."),
}

_WORDS = {
    "console": ("コンソール", "Console"), "board": ("リアルタイム", "Real-time"),
    "history": ("通話履歴", "Call history"), "stats": ("統計", "Statistics"),
    "numbers_stats": ("電話番号統計", "Number statistics"),
    "status_stats": ("ステータス統計", "Status statistics"),
    "users": ("ユーザー", "Users"), "stop_statuses": ("停止ステータス", "Stop statuses"),
    "permissions": ("権限設定", "Permissions"), "audit": ("操作ログ", "Audit log"),
    "security": ("セキュリティ設定", "Security"), "sign_out": ("サインアウト", "Sign out"),
    "sign_in": ("サインイン", "Sign in"), "username": ("ユーザーID", "User ID"),
    "password": ("パスワード", "Password"), "other_language": ("English", "日本語"),
    "skip": ("本文へ移動", "Skip to content"), "menu": ("メニュー", "Menu"),
    "search": ("検索", "Search"), "download": ("ダウンロード", "Download"),
    "download_cp932": ("ダウンロード（Shift_JIS）", "Download (Shift_JIS)"),
    "from": ("From", "From"), "to": ("To", "To"), "group": ("グループ", "Group"),
    "all_groups": ("すべてのグループ", "All groups"), "agent": ("エージェント", "Agent"),
    "direction": ("発着信", "Direction"), "inbound": ("着信", "Inbound"),
    "outbound": ("発信", "Outbound"), "any": ("--", "--"), "party": ("相手番号", "Party"),
    "number": ("電話番号", "Number"), "result": ("結果", "Result"),
    "duration": ("通話秒数", "Talk seconds"), "min": ("以上", "at least"),
    "max": ("以下", "at most"), "started": ("開始", "Started"),
    "wait": ("待ち", "Wait"), "recording": ("録音", "Recording"),
    "notes": ("メモ", "Notes"), "disposition": ("対応結果", "Disposition"),
    "no_rows": ("該当するデータはありません。", "Nothing matches."),
    "by": ("区分", "Grouping"), "day": ("日付", "Day"), "hour": ("時間", "Hour"),
    "calls": ("コール数", "Calls"), "answered": ("応答呼", "Answered"),
    "abandoned": ("放棄呼", "Abandoned"), "overflow": ("あふれ", "Overflow"),
    "timed_out": ("制限時間", "Timed out"), "answer_rate": ("応答率", "Answer rate"),
    "avg_wait": ("平均応答時間", "Avg wait to answer"),
    "max_wait": ("最大応答時間", "Max wait to answer"),
    "avg_abandon": ("平均放棄時間", "Avg time to abandon"),
    "max_abandon": ("最大放棄時間", "Max time to abandon"),
    "talk_seconds": ("通話秒数", "Talk seconds"), "total": ("合計", "Total"),
    "unanswered": ("（未応答）", "(not answered)"),
    "out_count": ("発信数", "Outbound"), "out_connected": ("発信成立数", "Connected"),
    "out_seconds": ("発信秒数", "Seconds"), "out_average": ("発信平均", "Average"),
    "in_count": ("着信数", "Inbound"), "in_connected": ("着信成立数", "Connected"),
    "in_seconds": ("着信秒数", "Seconds"), "in_average": ("着信平均", "Average"),
    "date": ("日付", "Date"), "start_hour": ("時間", "From hour"),
    "range": ("範囲（時間）", "Hours"), "show": ("表示", "Show"),
    "percent": ("%", "%"), "seconds": ("秒数", "Seconds"), "count": ("回数", "Count"),
    "average": ("平均", "Average"),
    "no_intervals": ("ステータス統計には在席記録（ACD）が必要です。まだ記録がありません。",
                     "Status statistics need the ACD's presence records; there are none yet."),
    "incoming": ("着信", "Incoming"), "online": ("ログイン中/全体", "Online / total"),
    "on_call": ("通話中", "On call"), "available": ("待機", "Available"),
    "paused": ("停止", "Paused"), "waiting": ("待ち呼", "Waiting"),
    "status": ("ステータス", "Status"), "since": ("経過", "Time in status"),
    "today_calls": ("本日の通話", "Calls today"), "change": ("変更", "Change"),
    "overall": ("全体", "Overall"), "last_hours": ("表示期間（時間）", "Last hours"),
    "rate_chart": ("5分ごとの応答率", "Answer rate per 5 minutes"),
    "waiting_callers": ("待っている発信者", "Waiting callers"),
    "updated": ("更新", "Updated"),
    "new_user": ("新規ユーザー", "New user"), "edit": ("編集", "Edit"),
    "save": ("保存", "Save"), "display_name": ("名前", "Name"),
    "nickname": ("ニックネーム", "Nickname"), "email": ("メール", "E-mail"),
    "extension": ("内線", "Extension"), "role": ("権限", "Role"),
    "language": ("言語", "Language"), "active": ("有効", "Active"),
    "locked": ("ロック中", "Locked"), "unlock": ("ロック解除", "Unlock"),
    "disable": ("無効にする", "Disable"), "enable": ("有効にする", "Enable"),
    "reset_password": ("パスワード再設定", "Reset password"),
    "groups": ("グループ", "Groups"), "new_password": ("新しいパスワード", "New password"),
    "saved": ("保存しました。", "Saved."), "yes": ("はい", "yes"), "no": ("いいえ", "no"),
    "name": ("名称", "Name"), "icon": ("アイコン", "Icon"), "color": ("色", "Colour"),
    "order": ("並び順", "Order"), "add": ("追加", "Add"),
    "screen": ("画面", "Screen"), "view": ("閲覧", "View"), "update": ("更新", "Update"),
    "delete": ("削除", "Delete"),
    "when": ("日時", "When"), "who": ("誰が", "Who"), "what": ("操作", "What"),
    "target": ("対象", "Target"), "where": ("接続元", "From"), "details": ("内容", "Details"),
    "allow_admin": ("管理者・SV の許可IP（CIDR、1行に1つ）",
                    "Allowed for admins and supervisors (CIDR, one per line)"),
    "allow_agent": ("オペレーターの許可IP（CIDR、1行に1つ）",
                    "Allowed for agents (CIDR, one per line)"),
    "allow_empty": ("空欄ならすべてのアドレスから利用できます。",
                    "Empty: every address is allowed."),
    "your_ip": ("あなたの接続元", "Your address"),
    "retention": ("保存期間", "Retention"),
    "log_days": ("操作ログ・通話イベントを残す日数（0 = 無期限）",
                 "Days to keep audit log and call events (0 = for ever)"),
    "call_days": ("通話履歴を残す日数（0 = 無期限）", "Days to keep call history (0 = for ever)"),
    "delete_recordings": ("通話履歴と一緒に録音も削除する",
                          "Delete recordings with the call history"),
    "run_now": ("今すぐ実行", "Run now"), "deleted": ("削除件数", "Deleted"),
    "checks": ("接続チェック", "Checks"),
    "run_checks": ("接続する（チェック実行）", "Run the checks"),
    "verdict": ("結果", "Verdict"), "check": ("項目", "Check"), "message": ("内容", "Message"),
    "login_policy": ("ログイン設定", "Login policy"),
    "policy_note": ("ログイン設定は設定ファイルの [auth] で変更します（cti config check で確認）。",
                    "The login policy is set in [auth] of the configuration file "
                    "(check it with cti config check)."),
    "numbers": ("電話番号", "Numbers"), "flows": ("コールフロー", "Call flows"),
    "audio": ("音声ファイル", "Audio files"), "number_lists": ("着信拒否・発信制限", "Block lists"),
    "crm": ("CRM 連携", "CRM links"), "voicemail": ("留守番電話", "Voicemail"),
    "route": ("ルート", "Route"), "fallback": ("代替ルート", "Fallback"),
    "label": ("名称", "Label"), "caller_id_name": ("端末表示名", "Line name shown"),
    "max_channels": ("最大チャンネル", "Max channels"),
    "channel_overflow": ("チャンネル超過時", "Over the channels"),
    "ring_popup_url": ("着信ポップアップ URL", "Pop-up URL on ring"),
    "answer_popup_url": ("応答ポップアップ URL", "Pop-up URL on answer"),
    "number_settings_hint": ("最大チャンネル 0 は無制限。超過した着信はチャンネル超過時の"
                             "ルートへ（none: 混雑中のアナウンス）。ポップアップ URL の @@@@ は"
                             "相手の電話番号に置き換わります。",
                             "Max channels 0: no limit. Calls over it take the route of "
                             "\"Over the channels\" (none: a busy announcement). In pop-up URLs "
                             "@@@@ becomes the caller's number."),
    "transfer_caller_id": ("転送時の発信者番号", "Caller ID on transfer"),
    "record_calls": ("録音", "Record"), "new_number": ("番号を追加", "Add a number"),
    "route_hint": ("agent:ユーザーID / group:グループ名 / flow:フロー名 / voicemail / "
                   "external:電話番号 / none", "agent:<user ID> / group:<name> / "
                   "flow:<flow> / voicemail / external:<number> / none"),
    "confirm_delete": ("削除しますか？", "Delete?"), "deleted_ok": ("削除しました。", "Deleted."),
    "version": ("版", "Version"), "entry": ("入口ノード", "Entry node"),
    "description": ("説明", "Description"), "nodes": ("ノード数", "Nodes"),
    "changed_by": ("更新者", "By"), "changed_at": ("更新日時", "Changed"),
    "show_toml": ("TOML を表示", "Show TOML"), "flow_file": ("フローファイル（TOML）",
                                                          "Flow file (TOML)"),
    "validate": ("検証", "Validate"), "import": ("取り込む", "Import"),
    "valid_flow": ("問題はありません: {name}（ノード {nodes} 個）",
                   "No problems: {name} ({nodes} nodes)"),
    "imported": ("取り込みました: {name} 第{version}版", "Imported: {name} version {version}"),
    "unchanged": ("変更はありません（同じ内容）: {name} 第{version}版",
                  "Nothing changed (same content): {name} version {version}"),
    "line": ("行", "Line"), "node": ("ノード", "Node"), "field": ("項目", "Field"),
    "problem": ("問題", "Problem"), "file": ("ファイル", "File"),
    "upload": ("アップロード", "Upload"), "content_type": ("形式", "Format"),
    "size": ("サイズ", "Size"), "audio_hint": ("WAV（8 kHz モノラル 16 bit 推奨）、MP3、AIFF、"
                                             "GSM、μ-law、30 MB 未満",
                                             "WAV (8 kHz mono 16-bit recommended), MP3, AIFF, "
                                             "GSM, μ-law, under 30 MB"),
    "list_block": ("着信拒否", "Blocked callers"), "list_restrict": ("発信制限",
                                                              "Restricted destinations"),
    "pattern": ("番号・パターン", "Number or pattern"), "note": ("メモ", "Note"),
    "csv_upload": ("CSV で一括登録", "Add from a CSV file"),
    "csv_hint": ("1列目: 番号またはパターン、2列目: メモ（任意）",
                 "Column 1: number or pattern, column 2: note (optional)"),
    "import_report": ("追加 {added} 件、登録済み {existing} 件、取り込めなかった行 {errors} 件",
                      "{added} added, {existing} already listed, {errors} rows refused"),
    "rejected_rows": ("取り込めなかった行", "Rows refused"), "row": ("行", "Row"),
    "value": ("値", "Value"), "crm_adapters": ("連携先", "Connected CRMs"),
    "crm_note": ("連携先は設定ファイルの [crm] で設定します。"
                 "ここでは状態と接続チェックを確認できます。",
                 "CRMs are configured in [crm] of the configuration file; this screen shows "
                 "their state and checks them."),
    "usable": ("利用可", "Usable"), "unusable": ("利用不可", "Not usable"),
    "box": ("ボックス", "Box"), "caller": ("発信者", "Caller"),
    "length": ("長さ", "Length"), "handled": ("対応済み", "Handled"),
    "mark_handled": ("対応済みにする", "Mark handled"),
    "mark_unhandled": ("未対応に戻す", "Mark not handled"),
    "only_unhandled": ("未対応のみ", "Not handled only"), "play": ("再生", "Play"),
    "select": ("選択", "Select"), "loading": ("読み込み中…", "Loading…"),
    "error_http": ("エラー", "Error"),
    "role_agent": ("オペレーター", "Agent"), "role_supervisor": ("スーパーバイザー", "Supervisor"),
    "role_admin": ("管理者", "Admin"),
}


def language() -> str:
    asked = request.args.get("lang", "")
    if asked in LANGUAGES:
        return asked
    remembered = request.cookies.get(LANG_COOKIE, "")
    if remembered in LANGUAGES:
        return remembered
    agent = g.get("agent")
    if agent is not None and agent.language in LANGUAGES:
        return agent.language
    return "ja"


def words(lang: str) -> dict[str, str]:
    index = LANGUAGES.index(lang)
    return {key: pair[index] for key, pair in _WORDS.items()}
