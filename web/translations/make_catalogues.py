"""Maintainer tool: merge the hand-written fa/ar translations below into messages.po files.

Run after `pybabel extract -F babel.cfg -o web/translations/messages.pot .`; the .po files are committed,
the .mo files are compiled by `make translations` (pybabel compile -d web/translations) and never committed.
"""
from __future__ import annotations

from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po, write_po

HERE = Path(__file__).parent

T: dict[str, tuple[str, str]] = {
    # msgid: (fa, ar)
    "Loyalty club": ("باشگاه مشتریان", "نادي العملاء"),
    "Offline: your points are safe and will sync when the connection is back.":
        ("آفلاین: امتیازهای شما محفوظ است و پس از وصل شدن اینترنت همگام می‌شود.",
         "غير متصل: نقاطك محفوظة وستُزامَن عند عودة الاتصال."),
    "Language": ("زبان", "اللغة"),
    "Staff": ("کارکنان", "الموظفون"),
    "Welcome to %(name)s": ("به %(name)s خوش آمدید", "أهلاً بكم في %(name)s"),
    "Tap your card": ("کارت خود را به دستگاه نزدیک کنید", "قرّب بطاقتك من القارئ"),
    "Join the club": ("عضویت در باشگاه", "انضم إلى النادي"),
    "New here? Join in one minute and get welcome points.": (
        "تازه‌وارد هستید؟ در یک دقیقه عضو شوید و امتیاز خوش‌آمد بگیرید.",
        "جديد هنا؟ انضم في دقيقة واحدة واحصل على نقاط ترحيبية."),
    "Forgot your card? Scan your receipt": ("کارت همراهتان نیست؟ رسید را اسکن کنید", "نسيت بطاقتك؟ امسح إيصالك"),
    "Bronze": ("برنزی", "برونزي"),
    "Silver": ("نقره‌ای", "فضي"),
    "Gold": ("طلایی", "ذهبي"),
    "Platinum": ("پلاتینی", "بلاتيني"),
    "{n} points to {tier}": ("{n} امتیاز تا سطح {tier}", "{n} نقطة للوصول إلى {tier}"),
    "You are in our top tier": ("شما در بالاترین سطح باشگاه هستید", "أنت في أعلى مستوى لدينا"),
    "Purchase": ("خرید", "شراء"),
    "Reward": ("جایزه", "مكافأة"),
    "Correction": ("اصلاح", "تصحيح"),
    "Expired": ("منقضی", "منتهية"),
    "Bonus": ("هدیه", "مكافأة إضافية"),
    "Not enough points: this reward needs {needed} points and you have {available}.":
        ("امتیاز کافی نیست: این جایزه {needed} امتیاز لازم دارد و شما {available} امتیاز دارید.",
         "النقاط غير كافية: تحتاج هذه المكافأة إلى {needed} نقطة ولديك {available}."),
    "You have already used this reward as often as allowed.":
        ("سهم شما از این جایزه تمام شده است.", "لقد استخدمت هذه المكافأة بالحد المسموح."),
    "This reward is no longer available.": ("این جایزه دیگر موجود نیست.", "هذه المكافأة لم تعد متاحة."),
    "The kiosk is offline: today you can redeem up to {available} more points here. Please try again later.": (
        "دستگاه آفلاین است: امروز تا {available} امتیاز دیگر می‌توانید اینجا خرج کنید. لطفاً بعداً دوباره تلاش کنید.",
        "الجهاز غير متصل: يمكنك اليوم استبدال {available} نقطة أخرى كحد أقصى هنا. يرجى المحاولة لاحقاً."),
    "Digital cards are not available here. Please ask at the counter for a card.": (
        "کارت دیجیتال اینجا در دسترس نیست. لطفاً از صندوق کارت بگیرید.",
        "البطاقات الرقمية غير متاحة هنا. يرجى طلب بطاقة عند الصندوق."),
    "This reward is not available yet.": ("این جایزه هنوز در دسترس نیست.", "هذه المكافأة غير متاحة بعد."),
    "This reward is for {detail} members and above.": ("این جایزه برای اعضای سطح {detail} و بالاتر است.",
                                                       "هذه المكافأة لأعضاء مستوى {detail} فما فوق."),
    "This screen timed out. Please start again.": ("زمان این صفحه تمام شد. لطفاً دوباره شروع کنید.",
                                                   "انتهت مهلة هذه الشاشة. يرجى البدء من جديد."),
    "That is not a valid mobile number. Check the digits.": ("این شماره موبایل معتبر نیست. ارقام را بررسی کنید.",
                                                             "هذا ليس رقم جوال صحيحاً. تحقق من الأرقام."),
    "Please type your first name using letters only.": ("لطفاً نام خود را فقط با حروف بنویسید.",
                                                        "يرجى كتابة اسمك الأول بالحروف فقط."),
    "Please use letters only in your last name.": ("لطفاً در نام خانوادگی فقط از حروف استفاده کنید.",
                                                   "يرجى استخدام الحروف فقط في اسم العائلة."),
    "That birthday is not a real date. Pick it again.": ("این تاریخ تولد معتبر نیست. دوباره انتخاب کنید.",
                                                         "تاريخ الميلاد هذا غير صحيح. اختره مرة أخرى."),
    "No member has that referral code. Check it or leave it empty.":
        ("هیچ عضوی این کد معرف را ندارد. آن را بررسی کنید یا خالی بگذارید.",
         "لا يوجد عضو بهذا الرمز. تحقق منه أو اتركه فارغاً."),
    "Please answer the consent question.": ("لطفاً به پرسش رضایت پاسخ دهید.", "يرجى الإجابة عن سؤال الموافقة."),
    "This card already belongs to a member. Try another card.":
        ("این کارت متعلق به عضو دیگری است. کارت دیگری را امتحان کنید.", "هذه البطاقة مسجلة لعضو آخر. جرّب بطاقة أخرى."),
    "This is not one of our receipts. Scan the QR code on your receipt.":
        ("این رسید فروشگاه ما نیست. کد QR روی رسید را اسکن کنید.", "هذا ليس إيصالاً من متجرنا. امسح رمز QR على إيصالك."),
    "This receipt could not be verified. Please ask at the counter.":
        ("این رسید تأیید نشد. لطفاً از صندوق کمک بگیرید.", "تعذّر التحقق من هذا الإيصال. يرجى السؤال عند الصندوق."),
    "This receipt is too old to claim points.": ("مهلت دریافت امتیاز این رسید گذشته است.",
                                                 "هذا الإيصال قديم جداً للمطالبة بالنقاط."),
    "This receipt is from another branch. Claim it there.": ("این رسید مربوط به شعبه دیگری است. آنجا ثبتش کنید.",
                                                             "هذا الإيصال من فرع آخر. طالب به هناك."),
    "The points for this receipt were already added.": ("امتیاز این رسید قبلاً اضافه شده است.",
                                                        "نقاط هذا الإيصال أضيفت من قبل."),
    "Receipts cannot be claimed at this kiosk. Please ask at the counter.":
        ("در این دستگاه نمی‌توان رسید ثبت کرد. لطفاً از صندوق کمک بگیرید.",
         "لا يمكن المطالبة بالإيصالات في هذا الجهاز. يرجى السؤال عند الصندوق."),
    "This card is not in the club yet.": ("این کارت هنوز عضو باشگاه نیست.", "هذه البطاقة ليست في النادي بعد."),
    "This card is blocked. Please ask staff at the counter for help.":
        ("این کارت مسدود است. لطفاً از همکاران ما در صندوق کمک بگیرید.", "هذه البطاقة محظورة. يرجى طلب المساعدة من الموظفين."),
    "Wrong PIN. {n} attempts left.": ("رمز اشتباه است. {n} بار دیگر می‌توانید تلاش کنید.",
                                      "الرمز خاطئ. تبقّى {n} محاولات."),
    "Too many wrong PINs. Staff mode is locked for a few minutes.":
        ("رمز چند بار اشتباه وارد شد. حالت کارکنان چند دقیقه قفل است.",
         "محاولات خاطئة كثيرة. وضع الموظفين مقفل لبضع دقائق."),
    "No member has that phone number.": ("هیچ عضوی با این شماره نیست.", "لا يوجد عضو بهذا الرقم."),
    "That did not work: {message}": ("انجام نشد: {message}", "لم تنجح العملية: {message}"),
    "Staff mode timed out.": ("زمان حالت کارکنان تمام شد.", "انتهت مهلة وضع الموظفين."),
    "Something went wrong. Please try again.": ("مشکلی پیش آمد. لطفاً دوباره تلاش کنید.", "حدث خطأ ما. يرجى المحاولة مرة أخرى."),
    "+{n} points": ("{n}+ امتیاز", "+{n} نقطة"),
    "online": ("آنلاین", "متصل"),
    "never": ("هرگز", "أبداً"),
    "Your new card is now part of your membership.": ("کارت جدید به عضویت شما اضافه شد.", "أضيفت بطاقتك الجديدة إلى عضويتك."),
    "Saved. New balance: {n} points.": ("ذخیره شد. مانده جدید: {n} امتیاز.", "تم الحفظ. الرصيد الجديد: {n} نقطة."),
    "Card blocked. Tap the member's new card now.": ("کارت مسدود شد. اکنون کارت جدید عضو را نزدیک کنید.",
                                                     "تم حظر البطاقة. قرّب بطاقة العضو الجديدة الآن."),
    "The new card {label} now belongs to this member.": ("کارت جدید {label} به این عضو تعلق گرفت.",
                                                         "البطاقة الجديدة {label} أصبحت لهذا العضو."),
    "Hello": ("سلام", "مرحباً"),
    "Points": ("امتیاز", "النقاط"),
    "Purchase credit": ("اعتبار خرید", "رصيد الشراء"),
    "rial": ("ریال", "ريال"),
    "Tier": ("سطح", "المستوى"),
    "Rewards you can have now": ("جایزه‌هایی که الان می‌توانید بگیرید", "مكافآت يمكنك الحصول عليها الآن"),
    "Collect more points to unlock rewards.": ("با امتیاز بیشتر جایزه‌ها باز می‌شوند.", "اجمع نقاطاً أكثر لفتح المكافآت."),
    "Recent activity": ("فعالیت‌های اخیر", "النشاط الأخير"),
    "Done": ("تمام", "تم"),
    "points": ("امتیاز", "نقطة"),
    "This card is not in the club yet": ("این کارت هنوز عضو باشگاه نیست", "هذه البطاقة ليست في النادي بعد"),
    "Join now and this card becomes your club card.": ("همین حالا عضو شوید تا این کارت، کارت باشگاه شما شود.",
                                                       "انضم الآن لتصبح هذه البطاقة بطاقتك في النادي."),
    "Join with this card": ("عضویت با همین کارت", "انضم بهذه البطاقة"),
    "No, thanks": ("نه، ممنون", "لا، شكراً"),
    "This card is blocked": ("این کارت مسدود است", "هذه البطاقة محظورة"),
    "It was reported lost or blocked. Please ask staff at the counter: they can move your points to a new card.":
        ("این کارت گم‌شده یا مسدود اعلام شده است. از همکاران ما در صندوق بخواهید امتیازهایتان را به کارت جدید منتقل کنند.",
         "تم الإبلاغ عن فقدان هذه البطاقة أو حظرها. اطلب من الموظفين عند الصندوق نقل نقاطك إلى بطاقة جديدة."),
    "OK": ("باشه", "حسناً"),
    "Your mobile number": ("شماره موبایل شما", "رقم جوالك"),
    "Cancel": ("انصراف", "إلغاء"),
    "Next": ("بعدی", "التالي"),
    "Back": ("قبلی", "رجوع"),
    "You are already a member": ("شما قبلاً عضو شده‌اید", "أنت عضو بالفعل"),
    "Tap your new card on the reader to add it to your membership.":
        ("کارت جدیدتان را به دستگاه نزدیک کنید تا به عضویت شما اضافه شود.", "قرّب بطاقتك الجديدة من القارئ لإضافتها إلى عضويتك."),
    "Tap the new card": ("کارت جدید را نزدیک کنید", "قرّب البطاقة الجديدة"),
    "Your name": ("نام شما", "اسمك"),
    "First name": ("نام", "الاسم الأول"),
    "Last name (optional)": ("نام خانوادگی (اختیاری)", "اسم العائلة (اختياري)"),
    "A little more (optional)": ("کمی بیشتر (اختیاری)", "القليل بعد (اختياري)"),
    "Birthday: a gift of points every year": ("تاریخ تولد: هر سال امتیاز هدیه", "تاريخ الميلاد: نقاط هدية كل عام"),
    "Day": ("روز", "اليوم"),
    "Month": ("ماه", "الشهر"),
    "Year": ("سال", "السنة"),
    "Referral code from a friend": ("کد معرف از طرف دوست", "رمز الإحالة من صديق"),
    "Messages from the club": ("پیام‌های باشگاه", "رسائل النادي"),
    "May we send you text messages about your points, rewards and offers? You can stop them at any time by asking at the counter.":
        ("اجازه می‌دهید درباره امتیازها، جایزه‌ها و پیشنهادها برایتان پیامک بفرستیم؟ هر زمان بخواهید می‌توانید در صندوق لغوش کنید.",
         "هل نرسل إليك رسائل نصية عن نقاطك ومكافآتك وعروضنا؟ يمكنك إيقافها في أي وقت عند الصندوق."),
    "Consent text version": ("نسخه متن رضایت", "إصدار نص الموافقة"),
    "Yes, send me messages": ("بله، پیام بفرستید", "نعم، أرسلوا لي الرسائل"),
    "Welcome": ("خوش آمدید", "أهلاً بك"),
    "Tap your new card on the reader": ("کارت جدیدتان را به دستگاه نزدیک کنید", "قرّب بطاقتك الجديدة من القارئ"),
    "I have no card: show a digital card": ("کارت ندارم: کارت دیجیتال بده", "ليست لدي بطاقة: اعرض بطاقة رقمية"),
    "You are in the club!": ("عضو باشگاه شدید!", "أصبحت عضواً في النادي!"),
    "welcome points are already on your card.": ("امتیاز خوش‌آمد به حساب شما اضافه شد.", "نقطة ترحيبية أضيفت إلى حسابك."),
    "Your digital card": ("کارت دیجیتال شما", "بطاقتك الرقمية"),
    "Take a photo of this code: it is your digital card.": ("از این کد عکس بگیرید: کارت دیجیتال شماست.",
                                                            "التقط صورة لهذا الرمز: إنه بطاقتك الرقمية."),
    "Redeem this reward?": ("این جایزه را می‌گیرید؟", "هل تريد استبدال هذه المكافأة؟"),
    "points will be taken from your balance.": ("امتیاز از حساب شما کم می‌شود.", "نقطة ستُخصم من رصيدك."),
    "Yes, redeem": ("بله، بگیرم", "نعم، استبدل"),
    "Your coupon": ("کوپن شما", "قسيمتك"),
    "Coupon QR code": ("کد QR کوپن", "رمز QR للقسيمة"),
    "Show this code at the counter. Points left:": ("این کد را در صندوق نشان دهید. امتیاز باقی‌مانده:",
                                                    "اعرض هذا الرمز عند الصندوق. النقاط المتبقية:"),
    "Scan your receipt": ("رسید خود را اسکن کنید", "امسح إيصالك"),
    "Hold the QR code on your receipt under the scanner.": ("کد QR روی رسید را زیر اسکنر بگیرید.",
                                                            "ضع رمز QR الموجود على إيصالك تحت الماسح."),
    "Receipt code": ("کد رسید", "رمز الإيصال"),
    "Now tap your card": ("حالا کارت خود را نزدیک کنید", "الآن قرّب بطاقتك"),
    "This receipt earns about": ("این رسید حدود", "يمنحك هذا الإيصال نحو"),
    "points.": ("امتیاز دارد.", "نقطة."),
    "Tap your card to earn points": ("برای گرفتن امتیاز کارت خود را نزدیک کنید", "قرّب بطاقتك لكسب النقاط"),
    "points for this purchase": ("امتیاز برای این خرید", "نقطة لهذا الشراء"),
    "Staff sign-in": ("ورود کارکنان", "دخول الموظفين"),
    "Enter your PIN or tap your staff card.": ("رمز خود را وارد کنید یا کارت کارمندی را نزدیک کنید.",
                                               "أدخل رمزك أو قرّب بطاقة الموظف."),
    "Sign in": ("ورود", "دخول"),
    "Staff mode": ("حالت کارکنان", "وضع الموظفين"),
    "Device": ("دستگاه", "الجهاز"),
    "Branch": ("شعبه", "الفرع"),
    "Readers": ("کارت‌خوان‌ها", "القارئات"),
    "Events waiting to sync": ("رویدادهای در انتظار همگام‌سازی", "أحداث بانتظار المزامنة"),
    "Last sync": ("آخرین همگام‌سازی", "آخر مزامنة"),
    "Taps today": ("کارت‌زدن‌های امروز", "لمسات اليوم"),
    "Enrolments today": ("عضویت‌های امروز", "تسجيلات اليوم"),
    "Find member": ("یافتن عضو", "ابحث عن عضو"),
    "Adjust points (use - to take away)": ("اصلاح امتیاز (برای کم کردن -)", "تعديل النقاط (استخدم - للخصم)"),
    "Reason": ("دلیل", "السبب"),
    "Save adjustment": ("ثبت اصلاح", "حفظ التعديل"),
    "Leave staff mode": ("خروج از حالت کارکنان", "الخروج من وضع الموظفين"),
    "Lost: block and move to a new card": ("گم شده: مسدود کن و به کارت جدید منتقل کن", "مفقودة: احظرها وانقل إلى بطاقة جديدة"),
}


def main() -> None:
    with (HERE / "messages.pot").open("rb") as fh:
        template = read_po(fh)
    missing = [m.id for m in template if m.id and m.id not in T]
    if missing:
        raise SystemExit("no translation for: " + "; ".join(missing))
    for index, lang in enumerate(("fa", "ar", "en")):
        catalog = Catalog(locale=lang, project="loyalty-kiosk", charset="utf-8", fuzzy=False)
        for message in template:
            if not message.id:
                continue
            text = T[message.id][index] if lang != "en" else ""
            catalog.add(message.id, text, locations=message.locations, flags=message.flags)
        out = HERE / lang / "LC_MESSAGES" / "messages.po"
        out.parent.mkdir(parents=True, exist_ok=True)
        with out.open("wb") as fh:
            write_po(fh, catalog, width=120, omit_header=False)


if __name__ == "__main__":
    main()
