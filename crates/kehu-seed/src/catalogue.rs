//! The demo catalogue: what an office-supplies, IT and services dealer sells to people
//! and small companies. 60 products in 10 categories; prices span three orders of
//! magnitude so spend-based classes (amount tiers, Gamma-Gamma) have something to bite.

/// One product. Prices are in 分 (1/100 yuan), like every amount in Kehu.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Product {
    /// Stock-keeping code, unique in the catalogue.
    pub sku: &'static str,
    pub name: &'static str,
    pub category: &'static str,
    pub unit_price_fen: i64,
}

/// Category names, in catalogue order.
pub const CATEGORIES: [&str; 10] = [
    "办公用品",
    "电脑整机",
    "电脑配件",
    "打印耗材",
    "网络设备",
    "办公家具",
    "茶叶礼品",
    "软件服务",
    "维修服务",
    "培训课程",
];

/// Products per category; the catalogue is laid out category by category.
pub const PER_CATEGORY: usize = 6;

macro_rules! product {
    ($sku:literal, $name:literal, $cat:expr, $price:literal) => {
        Product {
            sku: $sku,
            name: $name,
            category: CATEGORIES[$cat],
            unit_price_fen: $price,
        }
    };
}

static PRODUCTS: [Product; 60] = [
    product!("BG-001", "A4复印纸 70g 5包/箱", 0, 12_900),
    product!("BG-002", "中性笔 0.5mm 12支/盒", 0, 1_800),
    product!("BG-003", "A4文件夹 10个装", 0, 2_500),
    product!("BG-004", "重型订书机", 0, 4_500),
    product!("BG-005", "便利贴 6本装", 0, 1_200),
    product!("BG-006", "磁性白板 120×90cm", 0, 29_900),
    product!("ZJ-001", "商务笔记本电脑 14英寸 i5/16G/512G", 1, 529_900),
    product!("ZJ-002", "轻薄笔记本电脑 13英寸 i7/16G/1T", 1, 699_900),
    product!("ZJ-003", "商用台式机 i5/16G/512G", 1, 439_900),
    product!("ZJ-004", "迷你主机 i5/8G/256G", 1, 299_900),
    product!("ZJ-005", "一体机电脑 23.8英寸", 1, 469_900),
    product!("ZJ-006", "图形工作站 i9/64G/2T", 1, 1_599_900),
    product!("PJ-001", "27英寸 2K 显示器", 2, 129_900),
    product!("PJ-002", "无线键鼠套装", 2, 19_900),
    product!("PJ-003", "移动硬盘 2TB", 2, 49_900),
    product!("PJ-004", "固态硬盘 1TB", 2, 45_900),
    product!("PJ-005", "内存条 16GB DDR4", 2, 29_900),
    product!("PJ-006", "USB-C 扩展坞 8合1", 2, 25_900),
    product!("DY-001", "硒鼓 黑色 标准容量", 3, 35_900),
    product!("DY-002", "墨盒 四色套装", 3, 29_900),
    product!("DY-003", "碳粉 1kg", 3, 12_900),
    product!("DY-004", "黑白激光打印机", 3, 129_900),
    product!("DY-005", "彩色喷墨一体机", 3, 169_900),
    product!("DY-006", "标签打印纸 3卷", 3, 3_800),
    product!("WL-001", "千兆无线路由器", 4, 39_900),
    product!("WL-002", "24口千兆交换机", 4, 89_900),
    product!("WL-003", "吸顶式无线AP", 4, 69_900),
    product!("WL-004", "超六类网线 305米", 4, 59_900),
    product!("WL-005", "企业级防火墙", 4, 599_900),
    product!("WL-006", "网络存储 NAS 4盘位", 4, 329_900),
    product!("JJ-001", "人体工学椅", 5, 129_900),
    product!("JJ-002", "办公桌 1.4米", 5, 89_900),
    product!("JJ-003", "钢制文件柜", 5, 79_900),
    product!("JJ-004", "会议桌 2.4米", 5, 299_900),
    product!("JJ-005", "四人位屏风工位", 5, 459_900),
    product!("JJ-006", "茶水柜", 5, 59_900),
    product!("CY-001", "西湖龙井 250g", 6, 68_800),
    product!("CY-002", "安溪铁观音 500g", 6, 39_800),
    product!("CY-003", "云南普洱 357g 饼茶", 6, 29_800),
    product!("CY-004", "武夷岩茶大红袍 礼盒", 6, 88_800),
    product!("CY-005", "中秋月饼礼盒", 6, 19_800),
    product!("CY-006", "端午粽子礼盒", 6, 16_800),
    product!("RJ-001", "财务软件 标准版 年费", 7, 298_000),
    product!("RJ-002", "企业邮箱 10用户 年费", 7, 99_000),
    product!("RJ-003", "云服务器 2核4G 年费", 7, 128_000),
    product!("RJ-004", "办公软件 正版授权", 7, 59_900),
    product!("RJ-005", "杀毒软件 企业版 年费", 7, 38_000),
    product!("RJ-006", "网站建设 基础版", 7, 580_000),
    product!("WX-001", "上门维修 单次", 8, 15_000),
    product!("WX-002", "电脑清灰保养", 8, 8_000),
    product!("WX-003", "系统重装", 8, 5_000),
    product!("WX-004", "硬盘数据恢复", 8, 80_000),
    product!("WX-005", "打印机维修", 8, 20_000),
    product!("WX-006", "年度IT运维服务包", 8, 1_200_000),
    product!("PX-001", "Excel高效办公 线上课", 9, 39_900),
    product!("PX-002", "网络安全意识培训 每人", 9, 29_900),
    product!("PX-003", "财税实操培训", 9, 99_800),
    product!("PX-004", "管理沟通工作坊", 9, 298_000),
    product!("PX-005", "新媒体运营课", 9, 69_900),
    product!("PX-006", "Python数据分析课", 9, 199_900),
];

/// The whole catalogue, category by category (`PER_CATEGORY` products each, in the order
/// of `CATEGORIES`).
pub fn products() -> &'static [Product] {
    &PRODUCTS
}

/// The products of one category (index into `CATEGORIES`).
pub fn in_category(category: usize) -> &'static [Product] {
    &PRODUCTS[category * PER_CATEGORY..(category + 1) * PER_CATEGORY]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalogue_is_laid_out_by_category_with_unique_skus() {
        for (c, name) in CATEGORIES.iter().enumerate() {
            assert!(in_category(c).iter().all(|p| p.category == *name));
        }
        let mut skus: Vec<_> = products().iter().map(|p| p.sku).collect();
        skus.sort_unstable();
        skus.dedup();
        assert_eq!(skus.len(), products().len());
        assert!(products().iter().all(|p| p.unit_price_fen > 0));
    }
}
