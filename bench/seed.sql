-- The benchmark's records: one form's records, spread evenly over one day (Asia/Tokyo),
-- generated inside PostgreSQL (fast, and deterministic: bench/run.py calls setseed first).
-- The form's 10 columns, in order (bench/run.py creates them):
--   Item (text), Quantity (integer), Amount (decimal), Site (text), Status (text),
--   Completed at (datetime), Category (text), Customer (text), Lot number (text), Notes (text)
-- Text is 12 to 30 characters, English and Japanese, with the repetition of real records: a few
-- statuses and categories, some dozens of items and sites, a hundred customers, popular values
-- more often (random()^k skews towards the start of each list); Lot number is unique per record
-- and about one note in ten is unique. Customer and Notes are sometimes empty (NULL).
WITH lists AS (
    SELECT
        ARRAY['Hydraulic', 'Centrifugal', 'Industrial', 'Compact', 'Heavy-duty', 'Stainless',
              'Portable', 'Electric', 'Pneumatic', 'Digital'] AS item_kinds,
        ARRAY['pump', 'valve assembly', 'conveyor belt', 'air compressor', 'cooling fan',
              'pressure gauge', 'motor unit', 'control panel', 'filter housing', 'bearing set'] AS item_parts,
        ARRAY['Tokyo Plant No.1', 'Tokyo Plant No.2', 'Osaka Works Line A', 'Osaka Works Line B',
              'Nagoya Assembly Hall', 'Yokohama Depot', 'Sendai Warehouse', 'Fukuoka Service Center',
              '東京第一工場 第三ライン', '大阪物流センター 北棟 2F', '名古屋組立工場 二階 東側', 'Sapporo Cold Storage',
              'Kobe Harbour Terminal', 'Hiroshima Branch Office', 'Kyoto Research Lab',
              '横浜倉庫 B-12 区画'] AS sites,
        ARRAY['Passed inspection', 'Needs follow-up', 'Awaiting parts', 'Repaired on site',
              'Replaced and tested', 'Escalated to vendor', '点検完了 異常なし (確認済)', 'Out of service'] AS statuses,
        ARRAY['Preventive maintenance', 'Safety inspection', 'Calibration check',
              'Cleaning and lubrication', 'Electrical inspection', 'Fire safety check',
              'Quality audit', '定期点検 (月次) 第二工場', 'Emergency repair', 'Warranty service',
              'Installation check', 'Annual overhaul'] AS categories,
        ARRAY['Sakura', 'Fuji', 'Nippon', 'Kanto', 'Osaka', 'Hokuto', 'Asahi', 'Midori', 'Aoba',
              'Kawasaki'] AS customer_names,
        ARRAY['Logistics', 'Trading Co.', 'Electric', 'Foods', 'Chemical', 'Motors', 'Systems',
              'Holdings', 'Industries', 'Steel'] AS customer_trades,
        ARRAY['No issues found', 'Minor oil leak, monitored', 'Belt tension adjusted',
              'Filter replaced', 'Noise from bearing', 'Gauge recalibrated', 'Operator retrained',
              'Parts ordered from vendor', 'Cleaned and lubricated', 'Vibration within limits',
              'Temperature slightly high', 'Seal replaced, no leak', '異常なし。次回も継続点検',
              '軽微な漏れあり、経過観察', 'Checked with supervisor', 'Firmware updated to 2.4'] AS notes
)
INSERT INTO records (tenant_id, form_id, recorded_at, recorded_by, field_values)
SELECT
    %(tenant_id)s,
    %(form_id)s,
    r.at,
    (ARRAY['山田 太郎', '佐藤 花子', 'Jürgen Müller', 'María García', '鈴木 一郎', 'Olivia Smith',
           'Kenji Watanabe', 'Aiko Tanaka'])[1 + floor(random() * 8)::int],
    jsonb_build_array(
        l.item_kinds[1 + floor(power(random(), 1.5) * 10)::int] || ' '
            || l.item_parts[1 + floor(power(random(), 1.5) * 10)::int],
        1 + floor(power(random(), 3) * 500)::int,
        to_char(random() * 250000, 'FM999990.00'),
        l.sites[1 + floor(power(random(), 2) * 16)::int],
        l.statuses[1 + floor(power(random(), 3) * 8)::int],
        to_char((r.at - random() * interval '6 hours') AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
        l.categories[1 + floor(power(random(), 2) * 12)::int],
        CASE WHEN random() < 0.05 THEN NULL
             ELSE l.customer_names[1 + floor(random() * 10)::int] || ' '
                  || l.customer_trades[1 + floor(random() * 10)::int] || ' K.K.' END,
        'LOT-' || to_char(n, 'FM0000000') || '-' || upper(substr(md5(%(form_id)s || ':' || n), 1, 4)),
        CASE WHEN r.roll < 0.2 THEN NULL
             WHEN r.roll < 0.3 THEN 'Ticket #' || to_char(floor(random() * 1e8), 'FM00000000') || ' closed'
             ELSE l.notes[1 + floor(power(random(), 2) * 16)::int] END
    )
FROM generate_series(1, %(rows)s) AS n
CROSS JOIN lists AS l
CROSS JOIN LATERAL (
    SELECT (%(day)s::date::timestamp AT TIME ZONE 'Asia/Tokyo')
               + (n - 1) * (interval '86399 seconds' / %(rows)s) AS at,
           random() AS roll
) AS r
