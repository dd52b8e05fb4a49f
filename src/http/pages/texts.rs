//! Everything a citizen or officer reads on the portal, in Bahasa
//! Indonesia (the default) and English.

/// The portal's language.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    Id,
    En,
}

impl Lang {
    /// `?lang=en|id` wins; otherwise the first of Accept-Language that we
    /// speak; otherwise Bahasa Indonesia.
    pub fn choose(query: Option<&str>, accept_language: Option<&str>) -> Lang {
        match query {
            Some("en") => return Lang::En,
            Some("id") => return Lang::Id,
            _ => {}
        }
        for part in accept_language.unwrap_or("").split(',') {
            let tag = part.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
            if tag.starts_with("id") || tag.starts_with("in") {
                return Lang::Id;
            }
            if tag.starts_with("en") {
                return Lang::En;
            }
        }
        Lang::Id
    }

    pub fn texts(self) -> &'static Texts {
        match self {
            Lang::Id => &ID,
            Lang::En => &EN,
        }
    }
}

#[derive(Debug)]
pub struct Texts {
    pub lang: &'static str,
    pub other_lang: &'static str,
    pub other_lang_name: &'static str,
    pub tagline: &'static str,
    pub skip: &'static str,
    pub nav_home: &'static str,
    pub nav_passkeys: &'static str,
    pub nav_sessions: &'static str,
    pub nav_codes: &'static str,
    pub nav_activity: &'static str,
    pub nav_counter: &'static str,
    pub signout: &'static str,
    pub help_title: &'static str,
    pub help: &'static str,
    pub help_more: &'static str,
    pub home_intro: &'static str,
    pub home_enrol: &'static str,
    pub home_code: &'static str,
    pub home_recover: &'static str,
    pub signed_in_as: &'static str,
    pub unverified: &'static str,
    pub verified: &'static str,
    pub verify_button: &'static str,
    pub verify_hint: &'static str,
    pub signin_title: &'static str,
    pub signin_button: &'static str,
    pub signin_field: &'static str,
    pub signin_hint: &'static str,
    pub enrol_title: &'static str,
    pub enrol_intro: &'static str,
    pub nik_label: &'static str,
    pub nik_hint: &'static str,
    pub name_label: &'static str,
    pub enrol_button: &'static str,
    pub code_title: &'static str,
    pub code_intro: &'static str,
    pub code_label: &'static str,
    pub code_button: &'static str,
    pub code_security_key: &'static str,
    pub recover_title: &'static str,
    pub recover_intro: &'static str,
    pub recovery_code_label: &'static str,
    pub recover_button: &'static str,
    pub codes_title: &'static str,
    pub codes_intro: &'static str,
    pub codes_button: &'static str,
    pub codes_left: &'static str,
    pub passkeys_title: &'static str,
    pub passkey_add: &'static str,
    pub passkey_rename: &'static str,
    pub passkey_new_name: &'static str,
    pub passkey_remove: &'static str,
    pub passkey_synced: &'static str,
    pub passkey_device: &'static str,
    pub passkey_this: &'static str,
    pub created: &'static str,
    pub last_used: &'static str,
    pub never: &'static str,
    pub sessions_title: &'static str,
    pub session_this: &'static str,
    pub session_end: &'static str,
    pub started: &'static str,
    pub address: &'static str,
    pub activity_title: &'static str,
    pub activity_intro: &'static str,
    pub counter_title: &'static str,
    pub counter_enrol: &'static str,
    pub counter_enrol_button: &'static str,
    pub counter_recover: &'static str,
    pub counter_revoke_old: &'static str,
    pub counter_recover_button: &'static str,
    pub counter_verify: &'static str,
    pub counter_verify_code: &'static str,
    pub counter_verify_button: &'static str,
    pub counter_ktp: &'static str,
    pub msg_working: &'static str,
    pub msg_failed: &'static str,
    pub msg_cancelled: &'static str,
    pub msg_unsupported: &'static str,
    pub msg_saved: &'static str,
    pub msg_confirm_remove: &'static str,
    pub msg_already_registered: &'static str,
}

pub static ID: Texts = Texts {
    lang: "id",
    other_lang: "en",
    other_lang_name: "English",
    tagline: "Layanan identitas dan perlindungan data pribadi warga",
    skip: "Langsung ke isi",
    nav_home: "Beranda",
    nav_passkeys: "Passkey saya",
    nav_sessions: "Sesi saya",
    nav_codes: "Kode pemulihan",
    nav_activity: "Riwayat akses",
    nav_counter: "Loket layanan",
    signout: "Keluar",
    help_title: "Apa itu passkey?",
    help: "Passkey adalah cara masuk tanpa kata sandi. Ponsel atau kunci keamanan Anda menyimpan kunci rahasia, \
           dan Anda membukanya dengan sidik jari, wajah, atau PIN layar seperti biasa. Tidak ada kata sandi yang \
           perlu diingat atau bisa dicuri.",
    help_more: "Passkey hanya bekerja di situs ini, jadi situs palsu tidak bisa memakainya.",
    home_intro: "Masuk untuk mengurus layanan, atau daftar jika ini pertama kali.",
    home_enrol: "Daftar sendiri",
    home_code: "Saya punya kode dari loket",
    home_recover: "Pulihkan akun",
    signed_in_as: "Anda masuk sebagai",
    unverified: "Akun Anda belum diverifikasi. Bawa KTP ke loket layanan dan tunjukkan kode verifikasi.",
    verified: "Akun Anda sudah diverifikasi petugas.",
    verify_button: "Tampilkan kode verifikasi",
    verify_hint: "Tunjukkan kode ini kepada petugas loket bersama KTP Anda. Berlaku 10 menit.",
    signin_title: "Masuk",
    signin_button: "Masuk dengan passkey",
    signin_field: "Akun (pilih passkey Anda)",
    signin_hint: "Ketuk kolom di atas untuk memilih passkey, atau tekan tombol.",
    enrol_title: "Daftar",
    enrol_intro: "Masukkan NIK dan nama sesuai KTP, lalu buat passkey di perangkat ini.",
    nik_label: "NIK (16 angka)",
    nik_hint: "Nomor Induk Kependudukan di KTP Anda.",
    name_label: "Nama lengkap",
    enrol_button: "Buat passkey dan daftar",
    code_title: "Daftar dengan kode dari loket",
    code_intro: "Petugas loket memberi Anda kode atau kode QR. Buat passkey di perangkat ini untuk menyelesaikan.",
    code_label: "Kode pendaftaran",
    code_button: "Buat passkey",
    code_security_key: "Ini kunci keamanan untuk warga (jangan buka sesi di komputer loket)",
    recover_title: "Pulihkan akun",
    recover_intro: "Kehilangan ponsel? Masukkan NIK dan satu kode pemulihan, lalu buat passkey baru. \
                    Tidak punya kode? Datanglah ke loket layanan dengan KTP.",
    recovery_code_label: "Kode pemulihan",
    recover_button: "Pulihkan dan buat passkey baru",
    codes_title: "Kode pemulihan",
    codes_intro: "Simpan kode-kode ini di tempat aman (tulis di kertas). Setiap kode hanya bisa dipakai sekali. \
                  Kode ini hanya ditampilkan sekarang.",
    codes_button: "Buat kode pemulihan baru",
    codes_left: "Kode pemulihan yang belum dipakai:",
    passkeys_title: "Passkey saya",
    passkey_add: "Tambah passkey",
    passkey_rename: "Ganti nama",
    passkey_new_name: "Nama baru",
    passkey_remove: "Hapus",
    passkey_synced: "Tersinkron antarperangkat",
    passkey_device: "Hanya di satu perangkat",
    passkey_this: "dipakai sesi ini",
    created: "Dibuat",
    last_used: "Terakhir dipakai",
    never: "belum pernah",
    sessions_title: "Sesi saya",
    session_this: "perangkat ini",
    session_end: "Akhiri sesi",
    started: "Mulai",
    address: "Alamat IP",
    activity_title: "Riwayat akses",
    activity_intro: "Semua kegiatan pada akun Anda, termasuk oleh petugas.",
    counter_title: "Loket layanan",
    counter_enrol: "Daftarkan warga",
    counter_enrol_button: "Buat kode pendaftaran",
    counter_recover: "Bantu pemulihan akun",
    counter_revoke_old: "Cabut semua passkey lama (misalnya ponsel dicuri)",
    counter_recover_button: "Buat kode pemulihan",
    counter_verify: "Verifikasi akun warga",
    counter_verify_code: "Kode verifikasi dari ponsel warga",
    counter_verify_button: "Verifikasi",
    counter_ktp: "Periksa KTP asli warga sebelum melanjutkan.",
    msg_working: "Sedang memproses…",
    msg_failed: "Gagal. Silakan coba lagi.",
    msg_cancelled: "Dibatalkan.",
    msg_unsupported: "Peramban ini belum mendukung passkey. Coba Chrome, Safari, atau Firefox versi terbaru.",
    msg_saved: "Tersimpan.",
    msg_confirm_remove: "Hapus passkey ini?",
    msg_already_registered: "Perangkat ini sudah menyimpan passkey untuk akun Anda. Gunakan perangkat atau kunci keamanan lain.",
};

pub static EN: Texts = Texts {
    lang: "en",
    other_lang: "id",
    other_lang_name: "Bahasa Indonesia",
    tagline: "Identity and personal-data protection for citizens",
    skip: "Skip to content",
    nav_home: "Home",
    nav_passkeys: "My passkeys",
    nav_sessions: "My sessions",
    nav_codes: "Recovery codes",
    nav_activity: "Access history",
    nav_counter: "Service counter",
    signout: "Sign out",
    help_title: "What is a passkey?",
    help: "A passkey is a way to sign in without a password. Your phone or security key keeps a secret key, and \
           you unlock it with your fingerprint, face or screen PIN as usual. There is no password to remember or \
           to steal.",
    help_more: "A passkey only works on this site, so a fake site cannot use it.",
    home_intro: "Sign in to use the services, or enrol if this is your first time.",
    home_enrol: "Enrol myself",
    home_code: "I have a code from the counter",
    home_recover: "Recover my account",
    signed_in_as: "You are signed in as",
    unverified: "Your account is not verified yet. Bring your KTP to a service counter and show the verification code.",
    verified: "Your account was verified by an officer.",
    verify_button: "Show a verification code",
    verify_hint: "Show this code to the counter officer together with your KTP. Valid for 10 minutes.",
    signin_title: "Sign in",
    signin_button: "Sign in with a passkey",
    signin_field: "Account (choose your passkey)",
    signin_hint: "Tap the field above to choose a passkey, or press the button.",
    enrol_title: "Enrol",
    enrol_intro: "Enter your NIK and name as on your KTP, then create a passkey on this device.",
    nik_label: "NIK (16 digits)",
    nik_hint: "The identity number on your KTP.",
    name_label: "Full name",
    enrol_button: "Create a passkey and enrol",
    code_title: "Enrol with a code from the counter",
    code_intro: "The counter officer gave you a code or a QR code. Create a passkey on this device to finish.",
    code_label: "Enrolment code",
    code_button: "Create a passkey",
    code_security_key: "This is a security key for a citizen (open no session on the counter's computer)",
    recover_title: "Recover your account",
    recover_intro: "Lost your phone? Enter your NIK and one recovery code, then create a new passkey. \
                    No code? Visit a service counter with your KTP.",
    recovery_code_label: "Recovery code",
    recover_button: "Recover and create a new passkey",
    codes_title: "Recovery codes",
    codes_intro: "Keep these codes somewhere safe (write them on paper). Each code works once. \
                  They are shown only now.",
    codes_button: "Create new recovery codes",
    codes_left: "Unused recovery codes:",
    passkeys_title: "My passkeys",
    passkey_add: "Add a passkey",
    passkey_rename: "Rename",
    passkey_new_name: "New name",
    passkey_remove: "Remove",
    passkey_synced: "Synced across devices",
    passkey_device: "On one device only",
    passkey_this: "used by this session",
    created: "Created",
    last_used: "Last used",
    never: "never",
    sessions_title: "My sessions",
    session_this: "this device",
    session_end: "End session",
    started: "Started",
    address: "IP address",
    activity_title: "Access history",
    activity_intro: "Everything that happened on your account, including by officers.",
    counter_title: "Service counter",
    counter_enrol: "Enrol a citizen",
    counter_enrol_button: "Create an enrolment code",
    counter_recover: "Help recover an account",
    counter_revoke_old: "Revoke all old passkeys (for example, a stolen phone)",
    counter_recover_button: "Create a recovery code",
    counter_verify: "Verify a citizen's account",
    counter_verify_code: "Verification code from the citizen's phone",
    counter_verify_button: "Verify",
    counter_ktp: "Check the citizen's original KTP before you continue.",
    msg_working: "Working…",
    msg_failed: "That did not work. Please try again.",
    msg_cancelled: "Cancelled.",
    msg_unsupported: "This browser does not support passkeys yet. Try a recent Chrome, Safari or Firefox.",
    msg_saved: "Saved.",
    msg_confirm_remove: "Remove this passkey?",
    msg_already_registered: "This device already holds a passkey for your account. Use another device or security key.",
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn language_choice() {
        assert_eq!(Lang::choose(None, None), Lang::Id);
        assert_eq!(Lang::choose(Some("en"), Some("id")), Lang::En);
        assert_eq!(Lang::choose(None, Some("en-US,en;q=0.9")), Lang::En);
        assert_eq!(Lang::choose(None, Some("id-ID,en;q=0.5")), Lang::Id);
        assert_eq!(Lang::choose(None, Some("fr-FR")), Lang::Id);
    }
}
