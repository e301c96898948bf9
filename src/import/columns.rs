//! The columns of the three import files and the names they go by: English, Chinese, and common synonyms.

use crate::i18n::{self, fold, Lang};

/// One column of an import file.
pub struct Column {
    pub name: &'static str,
    pub required: bool,
    /// The catalogue key of its header label (`field.<...>`), shared with the web app.
    pub label: &'static str,
    /// Free text that may hold tabs and line breaks.
    pub multiline: bool,
}

pub(super) const fn col(name: &'static str, required: bool, label: &'static str) -> Column {
    Column {
        name,
        required,
        label,
        multiline: false,
    }
}

pub(super) const fn text(name: &'static str, label: &'static str) -> Column {
    Column {
        name,
        required: false,
        label,
        multiline: true,
    }
}

/// The columns of one import file.
pub struct Format {
    /// What one row is, for messages (`customers`).
    pub noun: &'static str,
    pub columns: &'static [Column],
}

impl Format {
    pub(super) fn index(&self, column: &str) -> Option<usize> {
        self.columns.iter().position(|c| c.name == column)
    }
}

/// `customers.csv`.
pub const CUSTOMERS: Format = Format {
    noun: "customers",
    columns: &[
        col("external_id", true, "field.external_id"),
        col("name", true, "field.name"),
        col("phone", false, "field.phone"),
        text("address", "field.address"),
        text("notes", "field.notes"),
        col("do_not_contact", false, "field.do_not_contact"),
        col("label_consent_at", false, "field.label_consent_at"),
        col("label_consent_method", false, "field.label_consent_method"),
    ],
};

/// `garments.csv`: its `external_id` is the garment's, labelled like `garment_external_id` elsewhere.
pub const GARMENTS: Format = Format {
    noun: "garments",
    columns: &[
        col("external_id", true, "field.garment_external_id"),
        col("customer_external_id", true, "field.customer_external_id"),
        col("category", true, "field.category"),
        col("kind", true, "field.kind"),
        col("season_class", true, "field.season_class"),
        col("brand", false, "field.brand"),
        col("cut", false, "field.cut"),
        col("size", false, "field.size"),
        col("special_size", false, "field.special_size"),
        col("material", false, "field.material"),
        col("colour", false, "field.colour"),
        col("tag_code", false, "field.tag_code"),
    ],
};

/// `pickups.csv`, one row per garment collected.
pub const PICKUPS: Format = Format {
    noun: "pickups",
    columns: &[
        col("pickup_external_id", true, "field.pickup_external_id"),
        col("customer_external_id", true, "field.customer_external_id"),
        col("collected_at", true, "field.collected_at"),
        col("garment_external_id", true, "field.garment_external_id"),
        col("service", true, "field.service"),
        col("price", true, "field.price"),
        text("condition_notes", "field.condition_notes"),
    ],
};

/// Other names for a column seen in Chinese and English exports, beside the catalogue's labels.
pub(super) const HEADER_ALIASES: &[(&str, &[&str])] = &[
    (
        "field.external_id",
        &[
            "客户号",
            "会员号",
            "会员编号",
            "顾客编号",
            "客户id",
            "customer no",
            "customer number",
        ],
    ),
    (
        "field.customer_external_id",
        &[
            "客户号",
            "会员号",
            "会员编号",
            "顾客编号",
            "客户id",
            "customer",
            "customer no",
        ],
    ),
    (
        "field.garment_external_id",
        &["衣物号", "衣服编号", "衣物id", "garment", "item id"],
    ),
    (
        "field.pickup_external_id",
        &[
            "单号",
            "订单号",
            "取件单",
            "收衣单号",
            "pickup",
            "order id",
            "order no",
        ],
    ),
    (
        "field.name",
        &["客户姓名", "客户名称", "名字", "顾客姓名", "customer name"],
    ),
    (
        "field.phone",
        &[
            "手机",
            "手机号",
            "手机号码",
            "联系电话",
            "电话号码",
            "mobile",
            "telephone",
            "tel",
        ],
    ),
    ("field.address", &["住址", "联系地址", "收件地址"]),
    ("field.notes", &["说明", "备注信息", "note", "remarks"]),
    ("field.do_not_contact", &["勿扰", "不要联系"]),
    ("field.category", &["类别", "分类", "衣物类别"]),
    (
        "field.kind",
        &["衣物", "衣物种类", "种类", "品名", "type", "item"],
    ),
    (
        "field.season_class",
        &["季节类别", "适用季节", "season class"],
    ),
    ("field.colour", &["颜色"]),
    ("field.size", &["尺寸", "号码"]),
    ("field.tag_code", &["标签", "标签码", "水洗标", "tag"]),
    (
        "field.collected_at",
        &[
            "取件日期",
            "收衣时间",
            "收衣日期",
            "日期",
            "时间",
            "date",
            "collected",
        ],
    ),
    ("field.service", &["服务项目", "洗涤方式", "项目"]),
    (
        "field.price",
        &["金额", "单价", "价钱", "费用", "amount", "price (yuan)"],
    ),
    (
        "field.condition_notes",
        &["状况", "衣物状况备注", "瑕疵", "condition", "notes"],
    ),
];

/// Vocabulary words a laundry uses beside the catalogue's labels (`group.value`, word).
pub(super) const VOCAB_ALIASES: &[(&str, &str)] = &[
    ("category.men", "男"),
    ("category.men", "男士"),
    ("category.women", "女"),
    ("category.women", "女士"),
    ("category.children", "儿童"),
    ("category.children", "童"),
    ("category.children", "kids"),
    ("season_class.winter", "冬"),
    ("season_class.winter", "冬装"),
    ("season_class.summer", "夏"),
    ("season_class.summer", "夏装"),
    ("season_class.spring_autumn", "春秋季"),
    ("season_class.spring_autumn", "春秋装"),
    ("season_class.all_season", "四季通用"),
    ("season_class.all_season", "全季"),
    ("kind.coat", "外套大衣"),
    ("kind.down_jacket", "羽绒衣"),
    ("kind.suit", "西服"),
    ("kind.blazer", "西服外套"),
    ("kind.trousers", "长裤"),
    ("kind.trousers", "西裤"),
    ("kind.skirt", "裙子"),
    ("kind.shirt", "男式衬衫"),
    ("kind.sweater", "针织衫"),
    ("kind.sweater", "羊毛衫"),
    ("kind.t_shirt", "T恤衫"),
    ("kind.t_shirt", "tee"),
    ("kind.bedding", "被子"),
    ("kind.bedding", "被套"),
    ("kind.bedding", "床品"),
    ("material.wool", "毛呢"),
    ("material.silk", "丝绸"),
    ("material.leather", "真皮"),
    ("material.cotton", "纯棉"),
    ("material.cotton", "棉质"),
    ("material.linen", "亚麻"),
    ("material.synthetic", "涤纶"),
    ("material.synthetic", "polyester"),
    ("service.dry_clean", "dry cleaning"),
    ("service.wash", "湿洗"),
    ("service.wash", "washing"),
    ("service.press", "熨"),
    ("service.press", "ironing"),
    ("service.wash_and_press", "洗烫"),
    ("service.wash_and_press", "水洗+熨烫"),
    ("service.repair", "织补"),
    ("service.repair", "缝补"),
    ("service.repair", "修改"),
    ("service.leather_care", "皮具护理"),
    ("service.leather_care", "皮衣护理"),
];

/// The synonyms by `group.folded word`, built once.
pub(super) fn vocab_aliases() -> &'static std::collections::HashMap<String, &'static str> {
    static MAP: std::sync::OnceLock<std::collections::HashMap<String, &'static str>> =
        std::sync::OnceLock::new();
    MAP.get_or_init(|| {
        VOCAB_ALIASES
            .iter()
            .filter_map(|(key, word)| {
                let (group, value) = key.split_once('.')?;
                Some((format!("{group}.{}", fold(word)), value))
            })
            .collect()
    })
}

/// A header name folded for matching, with a trailing unit or note in brackets dropped (`价格（元）`).
pub(super) fn fold_header(name: &str) -> String {
    let mut s = name.trim().trim_start_matches('\u{feff}').trim().to_owned();
    for (open, close) in [('(', ')'), ('（', '）'), ('[', ']')] {
        if s.ends_with(close) {
            if let Some(at) = s.rfind(open) {
                if at > 0 {
                    s.truncate(at);
                }
            }
        }
    }
    fold(s.trim_end_matches('*'))
}

/// Whether a folded header name means `column` of a file.
pub(super) fn names_column(folded: &str, column: &Column) -> bool {
    if fold(column.name) == folded {
        return true;
    }
    if Lang::ALL
        .iter()
        .any(|l| i18n::get(*l, column.label).is_some_and(|t| fold(t) == folded))
    {
        return true;
    }
    HEADER_ALIASES
        .iter()
        .filter(|(key, _)| *key == column.label)
        .any(|(_, names)| names.iter().any(|n| fold(n) == folded))
}
