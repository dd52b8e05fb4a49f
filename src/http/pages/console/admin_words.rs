//! The administration page's words, Bahasa Indonesia first.

use crate::policy::labels::Lang;

pub(super) struct AdminWords {
    pub title: &'static str,
    pub intro: &'static str,
    pub officers: &'static str,
    pub roles: &'static str,
    pub unit: &'static str,
    pub you: &'static str,
    pub save_roles: &'static str,
    pub suspend: &'static str,
    pub recover: &'static str,
    pub confirm_suspend: &'static str,
    pub confirm_recover: &'static str,
    pub add: &'static str,
    pub name: &'static str,
    pub add_button: &'static str,
    pub link_intro: &'static str,
    pub modules: &'static str,
    pub live: &'static str,
    pub disabled: &'static str,
    pub disable: &'static str,
    pub confirm_disable: &'static str,
    pub done: &'static str,
    pub statuses: [(&'static str, &'static str); 3],
    pub role_names: [(&'static str, &'static str); 3],
}

pub(super) fn admin_words(lang: Lang) -> &'static AdminWords {
    match lang {
        Lang::Id => &ID,
        Lang::En => &EN,
    }
}

static ID: AdminWords = AdminWords {
    title: "Administrasi",
    intro: "Akun petugas dan layanan (modul). Administrator tidak membaca data pribadi warga; setiap perubahan \
            tercatat di log audit.",
    officers: "Petugas",
    roles: "Peran",
    unit: "Unit",
    you: "Akun Anda: diubah oleh administrator lain.",
    save_roles: "Simpan peran",
    suspend: "Tangguhkan",
    recover: "Pulihkan (passkey hilang)",
    confirm_suspend: "Tangguhkan petugas ini? Sesinya berakhir dan ia tidak dapat masuk.",
    confirm_recover: "Semua passkey dan sesi petugas ini berakhir sekarang, dan tautan baru dibuat. Lanjutkan?",
    add: "Tambah petugas",
    name: "Nama",
    add_button: "Tambah dan buat tautan",
    link_intro: "Berikan tautan sekali pakai ini langsung kepada petugas (berlaku 24 jam):",
    modules: "Layanan (modul)",
    live: "Aktif",
    disabled: "Dinonaktifkan",
    disable: "Nonaktifkan",
    confirm_disable: "Nonaktifkan layanan ini? Kunci API, autentikasi klien dan tokennya ditolak mulai sekarang.",
    done: "Tersimpan.",
    statuses: [
        ("pending", "Menunggu passkey"),
        ("active", "Aktif"),
        ("suspended", "Ditangguhkan"),
    ],
    role_names: [
        ("counter", "Petugas loket"),
        ("security", "Petugas keamanan"),
        ("admin", "Administrator"),
    ],
};

static EN: AdminWords = AdminWords {
    title: "Administration",
    intro: "Officers' accounts and service modules. Administrators read no citizen's personal data; every change \
            is recorded in the audit log.",
    officers: "Officers",
    roles: "Roles",
    unit: "Unit",
    you: "Your account: another administrator changes it.",
    save_roles: "Save roles",
    suspend: "Suspend",
    recover: "Recover (lost passkey)",
    confirm_suspend: "Suspend this officer? Their sessions end and they cannot sign in.",
    confirm_recover: "Every passkey and session of this officer ends now, and a new link is made. Go on?",
    add: "Add an officer",
    name: "Name",
    add_button: "Add and make a link",
    link_intro: "Give this one-time link to the officer in person (valid 24 hours):",
    modules: "Service modules",
    live: "Live",
    disabled: "Disabled",
    disable: "Disable",
    confirm_disable: "Disable this module? Its API key, client authentication and tokens are refused from now.",
    done: "Saved.",
    statuses: [
        ("pending", "Waiting for a passkey"),
        ("active", "Active"),
        ("suspended", "Suspended"),
    ],
    role_names: [
        ("counter", "Counter officer"),
        ("security", "Security officer"),
        ("admin", "Administrator"),
    ],
};
