"""Translated strings the card page's ES modules need, handed over as one JSON blob per page.

Simpler than Django's JS catalog: the page gets exactly these, already in the active language.
"""

from __future__ import annotations

import logging

from django.utils.translation import gettext as _

from mynacard.targets import TargetPassword
from reservations.models import target_label as reservations_target_label

logger = logging.getLogger(__name__)


def target_label(target: TargetPassword) -> str:
    """The password's name as the official app writes it (reservations.models.TARGET_LABELS)."""
    return reservations_target_label(target)


def card_page_strings(target: TargetPassword) -> dict[str, str]:
    # The password the resident proves knowledge of is the other one (architecture.md).
    other = TargetPassword.AUTH if target == TargetPassword.SIGN else TargetPassword.SIGN
    known = target_label(other)
    return {
        # dates
        "seireki": _("西暦 %Y年%M月%D日"),
        "wareki": _("和暦 %E%Y年%M月%D日"),
        "gannen": _("元"),
        # card-face validation
        "err.birth_date.required": _("生年月日を入力してください。"),
        "err.expiry_date.required": _("有効期限を入力してください。"),
        "err.security_code.required": _("セキュリティコードを入力してください。"),
        "err.format": _(
            "日付の形式が正しくありません。例: 1985/07/23、昭和60年7月23日、S60.7.23"
        ),
        "err.not_a_date": _("存在しない日付です。カードの表面をもう一度確認してください。"),
        "err.era_range": _("元号と年の組み合わせが正しくありません(例: 平成は31年まで)。"),
        "err.birth_future": _("生年月日が未来の日付になっています。"),
        "err.card_expired": _(
            "カードの有効期限が過ぎています。このサービスは利用できません。お住まいの市区町村窓口"
            "で手続きを行ってください。"
        ),
        "err.expiry_too_far": _("有効期限が先すぎます。②の有効期限を確認してください。"),
        "err.expiry_before_birth": _(
            "有効期限が生年月日より前になっています。①と②を確認してください。"
        ),
        "err.code_format": _("セキュリティコードは半角数字4桁で入力してください。"),
        "err.fix_fields": _("入力内容を確認してください。"),
        "camera.loading": _("カメラの読み取り機能を準備しています…"),
        "camera.unavailable": _("カメラで読み取れませんでした。手で入力してください。"),
        # readers (the helper itself: reset/templatetags/helper_setup.py)
        "reader.none": _("カードリーダーが見つかりません。USBケーブルを差し直してください。"),
        "reader.card_present": _("マイナンバーカードが置かれています。「次へ」を押してください。"),
        "reader.card_absent": _(
            "カードが置かれていません。マイナンバーカードをカードリーダーに置いてください。"
        ),
        "reader.service_down": _(
            "カードリーダーのサービスが動いていません(Windowsは「Smart Card」サービス、Linuxは pc"
            "scd)。"
        ),
        # status table
        "status.reading": _("カードの状態を確認しています(パスワードの回数は減りません)…"),
        "status.failed": _("カードの状態を読み取れませんでした。"),
        "pin.jpki_auth": _("利用者証明用パスワード"),
        "pin.jpki_sign": _("署名用パスワード"),
        "pin.text_pin": _("券面事項入力補助用パスワード"),
        "pin.juki_pin": _("住民基本台帳用パスワード"),
        "pin.visual_pin_b": _("照合番号B(カード表面の情報)"),
        "tries.left": _("残り%N回"),
        "tries.of": _("残り%N回(最大%M回)"),
        "state.ok": _("利用できます"),
        "state.blocked": _("ロック中"),
        "state.last": _("あと1回でロック"),
        "cert.auth": _("利用者証明用電子証明書"),
        "cert.sign": _("署名用電子証明書"),
        "cert.valid_until": _("%C: 有効(%D まで)"),
        "cert.present": _("%C: あり"),
        "cert.expired": _("%C: 有効期限切れ(%D)"),
        "cert.missing": _("%C: ありません"),
        # routes (peers.md: tell the resident which route applies before any password is typed)
        "route.ok": _("このカードは予約できます。%Kを入力してください。"),
        "route.known_locked": _(
            "%Kがロックされているため、ここでは予約できません。お住まいの市区町村窓口でロックの解"
            "除とパスワードの初期化を行ってください。"
        ),
        "route.target_cert_expired": _(
            "電子証明書の有効期限が切れているか、ありません。パスワードの初期化ではなく、お住まい"
            "の市区町村窓口で電子証明書の更新(再発行)が必要です。"
        ),
        "route.target_not_locked": _(
            "初期化するパスワードはロックされていません(残り%N回)。思い出せない場合はこのまま予約"
            "できます。"
        ),
        "route.store_auth": _(
            "利用者証明用パスワードの初期化に対応しているキオスク端末(店舗)は限られます。事前に対"
            "応店舗を確認してください。"
        ),
        "route.stores": _("%Tの初期化に対応しているキオスク端末がある店舗: %S"),
        "route.no_store": _(
            "現在、%Tの初期化に対応しているキオスク端末の店舗はありません。お住まいの市区町村窓口"
            "で手続きを行ってください。"
        ),
        "list.separator": _("、"),
        "route.pin_b_locked": _(
            "カード表面の情報による照合がロックされています。お住まいの市区町村窓口で手続きを行っ"
            "てください。"
        ),
        "route.other_pins": _(
            "%Pがロックされています。これはこのサービスでは初期化できません。お住まいの市区町村窓"
            "口で手続きを行ってください。"
        ),
        # password
        "password.heading": _("%K入力"),
        "password.label": _("マイナンバーカードの%Kを入力してください"),
        "password.hint.auth": _(
            "数字4桁。※利用者証明用パスワードとは、マイナンバーカード受け取りの際に設定した、数字"
            "4桁のパスワードです。3回連続で間違えるとロックされるのでご注意ください。ロックされた"
            "場合は、お住まいの市区町村窓口での解除が必要となります。"
        ),
        "password.hint.sign": _(
            "英大文字と数字の6~16文字(英字と数字を両方含む)。※署名用パスワードとは、マイナンバー"
            "カード受け取りの際に設定したパスワードです。5回連続で間違えるとロックされます。ロッ"
            "クされた場合は、お住まいの市区町村窓口での解除が必要となります。"
        ),
        "password.tries": _("残り%N回入力できます。"),
        "err.pin.required": _("パスワードを入力してください。"),
        "err.pin.auth_format": _("利用者証明用パスワードは数字4桁です。"),
        "err.pin.sign_format": _(
            "署名用パスワードは英大文字と数字の6~16文字で、英字と数字を両方含みます。"
        ),
        "err.pin.wrong": _("パスワードが違います。残り%N回です。"),
        # The card says only that 照合番号B (birth date + expiry + security code) is wrong, not
        # which part (docs/mynacard-protocol.md §6.2), so the page names all three.
        "err.pin_b.wrong": _(
            "生年月日・有効期限・セキュリティコードのいずれかが、カードの記載と合っていません。"
            "カードは3つをまとめて確かめるので、どの項目が違うかは分かりません。"
            "カードの表面で、①生年月日、②カードの有効期限(電子証明書の有効期限ではありません)、"
            "③写真の下の4桁のセキュリティコードを1つずつ確かめて、直してください。"
            "券面情報(照合番号B)は、あと%N回入力できます。"
        ),
        "err.pin_b.recheck": _(
            "生年月日・有効期限・セキュリティコードをカードの表面で確かめてから、「次へ」を押して"
            "ください。"
        ),
        "err.pin_b.blocked": _(
            "券面情報(照合番号B)がロックされました。このサービスでは予約できません。お住まいの市"
            "区町村窓口で手続きを行ってください。"
        ),
        # CHECK_CARD_FACE_ITEMS, right after the card is placed (issue 14)
        "check.pin_b": _(
            "入力した券面情報(生年月日・有効期限・セキュリティコード)をカードと照合しています…"
        ),
        "check.pin_b.ok": _("入力した券面情報はカードと一致しました。"),
        "check.pin_b.failed": _("券面情報をカードと照合できませんでした。"),
        "lasttry.pin_b.text": _(
            "券面情報(照合番号B)の残りは1回です。間違えるとロックされ、市区町村窓口での手続きが必"
            "要になります。生年月日・有効期限・セキュリティコードを、カードの表面でもう一度確かめ"
            "てから照合してください。"
        ),
        "lasttry.pin_b.confirm": _("この内容で照合する"),
        "err.pin.blocked": _(
            "パスワードがロックされました。お住まいの市区町村窓口で解除の手続きを行ってください。"
        ),
        "lasttry.text": _(
            "%Kの残りは1回です。間違えるとロックされ、市区町村窓口での解除が必要になります。入力"
            "したパスワードで読み取りますか?"
        ),
        # chip read
        "chip.nonce": _("サーバーから受付番号を受け取っています…"),
        "chip.reading": _("ICチップを読み取っています。カードを動かさないでください…"),
        "chip.sending": _("読み取り結果をサーバーで確認しています…"),
        "chip.ok": _("ICチップの読み取りが完了しました。顔認証に進みます。"),
        "chip.failed": _("読み取りに失敗しました。"),
        "chip.network": _("サーバーに接続できませんでした。インターネット接続を確認してください。"),
        "chip.card_back": _("カードが置かれました。「もう一度読み取る」を押してください。"),
        "chip.tries": _("カードで確かめると、%Kは残り%N回入力できます。"),
        "server.wrong_step": _("手続きの順番が正しくありません。最初からやり直してください。"),
        "known": known,
        **card_face_camera_strings(),
        "target": target_label(target),
    }


def card_face_camera_strings() -> dict[str, str]:
    """The camera panel's texts (static/reset/cardface.js, keys prefixed "cardface.")."""
    return {
        "cardface.group": _("カメラで読み取る"),
        "cardface.field.birth_date": _("生年月日"),
        "cardface.field.expiry_date": _("有効期限"),
        "cardface.field.security_code": _("セキュリティコード"),
        "cardface.filledList": _("(%Lを入力しました)"),
        "cardface.listSeparator": _("・"),
        "cardface.intro": _(
            "マイナンバーカード(表面)を黒わくにあわせてください。表面の内容(有効期限やマイナ"
            "ちゃんマーク)が隠れないようご注意ください。"
        ),
        "cardface.privacy": _(
            "撮影した画像は読み取りのためにサーバーへ1回だけ送られ、読み取り後すぐに破棄され"
            "ます(保存も記録もしません)。"
        ),
        "cardface.capture": _("撮影する"),
        "cardface.retake": _("もう一度撮影する"),
        "cardface.close": _("閉じる"),
        "cardface.starting": _("カメラを起動しています…"),
        "cardface.ready": _("カードを黒わくにあわせて「撮影する」を押してください。"),
        "cardface.live": _(
            "カードを黒わくにあわせてください。ピントが合うと自動で読み取ります"
            "(「撮影する」でも読み取れます)。"
        ),
        "cardface.closer": _("もう少し近づけてください"),
        "cardface.still": _("動かさないでください"),
        "cardface.steady": _("そのまま動かさないでください。読み取っています…"),
        "cardface.weakCamera": _(
            "このカメラは解像度が低いため、読み取れないことがあります。"
            "カードをカメラに近づけるか、下の欄に手で入力してください。"
        ),
        "cardface.reading": _("読み取っています…"),
        "cardface.done": _(
            "読み取った内容を下の欄に入力しました。カードと見比べて、正しいことを確認してから"
            "「次へ」を押してください。"
        ),
        "cardface.partial": _(
            "読み取れた項目だけを入力しました。残りは手で入力し、すべてカードと見比べて確認し"
            "てください。"
        ),
        "cardface.more": _(
            "%Lを入力しました。残りの項目を続けて読み取ります。カードを黒わくにあわせたまま、"
            "動かさないでください。"
        ),
        "cardface.conflict": _(
            "読み取るたびに%Lが異なったため、その欄を空にしました。カードを見ながら手で入力して"
            "ください。"
        ),
        "cardface.sure": _(
            "カメラで読み取りました(確からしさ %P%)。カードと見比べて確認してください。"
        ),
        "cardface.unsure": _(
            "カメラで読み取りましたが、確からしさが低めです(%P%)。必ずカードと見比べて確認し"
            "てください。"
        ),
        "cardface.manual": _("下の欄に手で入力することもできます。"),
        "cardface.noCamera": _("カメラが見つかりません。下の欄に手で入力してください。"),
        "cardface.denied": _(
            "カメラの使用が許可されていません。ブラウザーの設定でカメラを許可するか、下の欄に"
            "手で入力してください。"
        ),
        "cardface.busy": _(
            "カメラを起動できませんでした。ほかのアプリがカメラを使っていないか確認するか、下"
            "の欄に手で入力してください。"
        ),
        "cardface.insecure": _(
            "この画面ではカメラを使えません(HTTPSでの接続が必要です)。下の欄に手で入力してく"
            "ださい。"
        ),
        "cardface.network": _(
            "サーバーに接続できませんでした。通信状態を確認して、もう一度撮影するか、下の欄に"
            "手で入力してください。"
        ),
        "cardface.server": _(
            "読み取りに失敗しました。もう一度撮影するか、下の欄に手で入力してください。"
        ),
        "cardface.tooLarge": _("画像が大きすぎます。もう一度撮影してください。"),
        "cardface.reason.too_small": _(
            "カードが小さく写っています。マイナンバーカード(表面)を黒わくいっぱいにあわせて、"
            "もう一度撮影してください。"
        ),
        "cardface.reason.blurred": _(
            "写真がぼやけています。カードとカメラを動かさず、ピントが合ってから撮影してくださ"
            "い。"
        ),
        "cardface.reason.glare": _(
            "照明が反射して文字が読めません。反射しない向きにカードを傾けて、もう一度撮影して"
            "ください。"
        ),
        "cardface.reason.not_a_card": _(
            "マイナンバーカード(表面)が見つかりません。カードの表面を黒わくにあわせてください"
            "。"
        ),
        "cardface.reason.unreadable": _(
            "券面の文字を読み取れませんでした。もう一度撮影するか、下の欄に手で入力してくださ"
            "い。"
        ),
    }
