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
    "monitoring": ("モニタリング", "Monitoring"), "mon_monitor": ("モニター", "Monitor"),
    "mon_whisper": ("ウィスパー", "Whisper"), "mon_barge": ("割り込み", "Barge in"),
    "mon_stop": ("終了", "Stop"),
    "mon_hint": ("モニター: 聞くだけ / ウィスパー: 担当者だけに話す / 割り込み: 通話に参加",
                 "Monitor: listen only / Whisper: to the agent only / Barge in: join the call"),
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
    "skill_level": ("スキル", "Skill"),
    "skill_hint": ("スキル 1 が最優先（スキル順の着信で先に鳴ります）、9 まで",
                   "Skill 1 is rung first by skill-weighted groups, up to 9"),
    "caller_ids": ("発信者番号", "Caller IDs"), "default_caller_id": ("既定", "Default"),
    "change_history": ("変更履歴", "Change history"),
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
    "policy_note": ("ログイン設定は「設定」→「ログイン設定」で変更します。そこで空欄の項目は"
                    "設定ファイルの [auth] の値です。",
                    "Change the login policy under Settings → Login policy; fields left empty "
                    "there take [auth] of the configuration file."),
    "numbers": ("電話番号", "Numbers"), "flows": ("コールフロー", "Call flows"),
    "audio": ("音声ファイル", "Audio files"), "number_lists": ("着信拒否・発信制限", "Block lists"),
    "crm": ("CRM 連携", "CRM links"), "voicemail": ("留守番電話", "Voicemail"),
    "monitor": ("モニタリング", "Monitoring"),
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
    "preview_report": ("確認結果（まだ登録していません）: 追加予定 {added} 件、"
                       "登録済み {existing} 件、取り込めない行 {errors} 件",
                       "Preview (nothing added yet): {added} to add, {existing} already listed, "
                       "{errors} rows would be refused"),
    "preview": ("確認", "Preview"), "import_now": ("この内容で登録", "Add these rules"),
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
    "campaigns": ("キャンペーン", "Campaigns"),
    "campaign": ("キャンペーン", "Campaign"), "campaign_mode": ("発信方式", "Dialing"),
    "mode_preview": ("プレビューコール", "Preview"),
    "mode_progressive": ("プログレッシブコール", "Progressive"),
    "campaign_status": ("状態", "Status"),
    "cs_draft": ("下書き", "Draft"), "cs_running": ("実行中", "Running"),
    "cs_paused": ("一時停止", "Paused"), "cs_stopped": ("停止", "Stopped"),
    "cs_completed": ("完了", "Completed"),
    "c_attempts": ("発信数", "Attempts"), "c_connected": ("接続", "Connected"),
    "c_talk": ("通話時間", "Talk time"), "c_remaining": ("残り", "Remaining"),
    "c_contacts": ("発信先", "Contacts"), "c_abandoned_rate": ("放棄率", "Abandoned rate"),
    "c_results": ("結果の内訳", "Results"), "c_actions": ("操作", "Actions"),
    "c_start": ("開始", "Start"), "c_pause": ("一時停止", "Pause"),
    "c_resume": ("再開", "Resume"), "c_stop": ("停止", "Stop"),
    "c_confirm_stop": ("「{name}」を停止しますか？ 待機中の発信先はすべて「停止」で終わります。",
                       "Stop \u201c{name}\u201d? Every waiting contact ends as stopped."),
    "c_done": ("「{name}」: {action}しました。", "{name}: {action} done."),
    "c_none": ("キャンペーンはまだありません。", "No campaigns yet."),
    "c_survey": ("アンケート", "Survey"),
    "settings_menu": ("設定", "Settings"),
}

#: The groups and login-policy screens (SPEC CF-5, AD-3): one word per setting, as the
#: contact-center manuals name them.
_SETTING_WORDS = {
    "new_group": ("グループを追加", "Add a group"), "group_id": ("グループID", "Group ID"),
    "group_name": ("グループ名", "Group name"), "set_strategy": ("着信方式", "Ring strategy"),
    "members": ("メンバー", "Members"), "skill": ("スキルレベル", "Skill level"),
    "add_member": ("メンバーを追加", "Add member"), "remove": ("外す", "Remove"),
    "set_ring_seconds": ("呼出時間（秒）", "Ring time per agent (s)"),
    "set_max_active": ("最大同時応答数（0 = 無制限）", "Max simultaneous calls (0 = no limit)"),
    "set_max_waiting": ("最大待ち呼数", "Max waiting callers"),
    "set_overflow": ("あふれ時の転送先", "Overflow target"),
    "set_max_wait_seconds": ("最大待ち時間（秒）", "Max wait (s)"),
    "set_timeout": ("タイムアウト時の転送先", "Timeout target"),
    "set_ring_before_queue_seconds": ("待ち呼開始時間（秒）", "Ring before queue (s)"),
    "set_greeting": ("応答音声", "Greeting"),
    "set_queue_music": ("呼中音声（URL）", "Queue music (URL)"),
    "set_hold_music": ("保留音（URL）", "Hold music (URL)"),
    "set_whisper": ("着信判別音声", "Whisper to the agent"),
    "set_display_name": ("端末表示名", "Name on the softphone"), "set_color": ("色", "Colour"),
    "set_announce_every_seconds": ("案内の間隔（秒、0 = なし）",
                               "Announcement interval (s, 0 = off)"),
    "set_announce": ("案内内容", "Announce"),
    "set_leave_key": ("留守電へ抜けるキー", "Key to leave"),
    "set_acw_seconds": ("ACW時間（秒）", "After-call work (s)"),
    "set_auto_pause_after": ("無応答自動停止（回、0 = しない）",
                         "Auto-pause after ring-outs (0 = off)"),
    "set_auto_pause_minutes": ("無応答自動停止時間（分、0 = 戻るまで）",
                           "Auto-pause minutes (0 = until back)"),
    "target_none": ("（番号の代替ルート）", "(the number's fallback)"),
    "target_group": ("グループ", "Group"), "target_agent": ("エージェント", "Agent"),
    "target_voicemail": ("留守番電話", "Voicemail"),
    "target_external": ("外線番号", "External number"),
    "target_announcement": ("アナウンスして終了", "Announcement, then hang up"),
    "announce_position": ("順番", "Position"), "announce_wait": ("待ち時間", "Expected wait"),
    "announce_both": ("順番と待ち時間", "Both"),
    "queue_settings": ("待ち呼", "Queue"), "voice_settings": ("音声", "Voice"),
    "agent_settings": ("エージェント", "Agents"),
    "pol_max_failed_attempts": ("ロックまでの失敗回数（0 = ロックしない）",
                            "Failed sign-ins before lock-out (0 = never)"),
    "pol_lockout_minutes": ("ロック時間（分）", "Lock-out minutes"),
    "pol_password_min_length": ("パスワードの最小文字数", "Minimum password length"),
    "pol_password_characters": ("パスワードの文字種", "Password characters"),
    "chars_any": ("制限なし", "Any"), "chars_letters_digits": ("英字と数字", "Letters and digits"),
    "chars_letters_digits_symbols": ("英字・数字・記号", "Letters, digits and symbols"),
    "pol_forbid_password_reuse": ("直前のパスワードの再利用を禁止",
                                  "Forbid reusing the last password"),
    "pol_password_expiry_days": ("パスワードの有効日数（0 = 無期限）",
                             "Password expiry days (0 = never)"),
    "pol_access_token_minutes": ("アクセストークンの有効時間（分）", "Access token minutes"),
    "pol_session_hours": ("ログインの有効時間（時間）", "Session hours"),
    "pol_idle_logout_minutes": ("無操作ログアウト（分、0 = しない）",
                            "Idle sign-out minutes (0 = never)"),
    "policy_source": ("空欄の項目は設定ファイル [auth] の値です。",
                      "Empty fields use [auth] of the configuration file."),
    "from_config": ("設定ファイルの値", "Configuration file"),
    "in_force": ("現在の値", "In force"), "from_console": ("この画面で設定", "Set here"),
    "pol_setting": ("項目", "Setting"), "pol_range": ("範囲", "Range"),
    "policy_hint": ("変更は数秒以内にすべてのサーバーで適用されます。ログインの有効時間と"
                    "アクセストークンの有効時間は、次に発行されるものから適用されます。",
                    "Changes apply on every server within seconds; session and access-token "
                    "lifetimes apply to those issued from then on."),
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
    return {key: pair[index] for key, pair in (_WORDS | _SETTING_WORDS).items()}
