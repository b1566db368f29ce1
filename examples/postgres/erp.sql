-- An ERP's accounts payable and receivable, as tap-postgres reads them for target-billcom.
--
--   psql -v ON_ERROR_STOP=1 -d erp -f examples/postgres/erp.sql
--
-- Tables are the ERP's own, relational and in its own names: suppliers and customers, AP
-- invoices (what suppliers bill us) and AR invoices (what we bill customers), each with its
-- lines in a table of their own. Money is NUMERIC(12,2).
--
-- target-billcom wants a bill or an invoice WITH its lines in one record, in BILL's field
-- names. tap-postgres emits one record per table row, so the two views at the end do the one
-- thing stream maps cannot: nest each invoice's lines into a JSON array (json_agg). Plain
-- renames (supplier_name -> name, ...) are left to the stream maps of `tap-erp` in meltano.yml.
--
-- Re-running this file drops and recreates the schema with the same rows.

SET client_min_messages = warning;  -- no NOTICE for each dropped object
DROP SCHEMA IF EXISTS erp CASCADE;
CREATE SCHEMA erp;

CREATE TABLE erp.suppliers (
    supplier_id   integer PRIMARY KEY,
    supplier_name text    NOT NULL UNIQUE,
    email         text,
    phone         text,
    currency_code char(3) NOT NULL DEFAULT 'USD'
);

CREATE TABLE erp.customers (
    customer_id   integer PRIMARY KEY,
    customer_name text    NOT NULL UNIQUE,
    email         text    NOT NULL,  -- BILL requires a customer's email
    phone         text,
    company_name  text
);

CREATE TABLE erp.ap_invoices (
    ap_invoice_id  integer PRIMARY KEY,
    supplier_id    integer NOT NULL REFERENCES erp.suppliers,
    invoice_number text    NOT NULL,
    invoice_date   date    NOT NULL,
    due_date       date    NOT NULL,
    memo           text,
    UNIQUE (supplier_id, invoice_number)
);

CREATE TABLE erp.ap_invoice_lines (
    ap_invoice_id integer       NOT NULL REFERENCES erp.ap_invoices ON DELETE CASCADE,
    line_no       integer       NOT NULL,
    gl_account    text          NOT NULL,  -- a BILL chart-of-accounts name
    description   text,
    amount        numeric(12,2) NOT NULL CHECK (amount > 0),
    PRIMARY KEY (ap_invoice_id, line_no)
);

CREATE TABLE erp.ar_invoices (
    ar_invoice_id  integer PRIMARY KEY,
    customer_id    integer NOT NULL REFERENCES erp.customers,
    invoice_number text    NOT NULL UNIQUE,
    invoice_date   date    NOT NULL,
    due_date       date    NOT NULL
);

CREATE TABLE erp.ar_invoice_lines (
    ar_invoice_id integer       NOT NULL REFERENCES erp.ar_invoices ON DELETE CASCADE,
    line_no       integer       NOT NULL,
    description   text,
    quantity      numeric(12,2) NOT NULL CHECK (quantity > 0),
    unit_price    numeric(12,2) NOT NULL CHECK (unit_price > 0),
    PRIMARY KEY (ar_invoice_id, line_no)
);

-- AP invoices as BILL bills: the supplier by name (target-billcom resolves it to vendorId),
-- the lines as billLineItems naming their account (resolved to chartOfAccountId).
-- Amounts stay JSON numbers with their scale (219.60): tap-postgres 0.10.0 reads json columns
-- into decimals and writes them back exact, and target-billcom parses them as decimals.
CREATE VIEW erp.ap_invoices_for_bill AS
SELECT i.ap_invoice_id,
       s.supplier_name AS "vendorName",
       i.due_date AS "dueDate",
       i.memo AS description,
       json_build_object(
           'invoiceNumber', i.invoice_number,
           'invoiceDate', i.invoice_date
       ) AS invoice,
       (SELECT json_agg(json_build_object(
                   'amount', l.amount,
                   'description', l.description,
                   'classifications', json_build_object('chartOfAccountName', l.gl_account)
               ) ORDER BY l.line_no)
          FROM erp.ap_invoice_lines l
         WHERE l.ap_invoice_id = i.ap_invoice_id) AS "billLineItems"
  FROM erp.ap_invoices i
  JOIN erp.suppliers s USING (supplier_id);

-- AR invoices as BILL invoices: the customer by name, the lines as invoiceLineItems.
CREATE VIEW erp.ar_invoices_for_bill AS
SELECT i.ar_invoice_id,
       c.customer_name AS "customerName",
       i.invoice_number AS "invoiceNumber",
       i.invoice_date AS "invoiceDate",
       i.due_date AS "dueDate",
       (SELECT json_agg(json_build_object(
                   'quantity', l.quantity,
                   'price', l.unit_price,
                   'description', l.description
               ) ORDER BY l.line_no)
          FROM erp.ar_invoice_lines l
         WHERE l.ar_invoice_id = i.ar_invoice_id) AS "invoiceLineItems"
  FROM erp.ar_invoices i
  JOIN erp.customers c USING (customer_id);

-- Seed rows ------------------------------------------------------------------------------

INSERT INTO erp.suppliers (supplier_id, supplier_name, email, phone) VALUES
    (1, 'Quarry Lane Stationers', 'ap@quarrylane.example', '4085550101'),
    (2, 'Brookside Office Leasing', 'billing@brookside.example', '4085550102'),
    (3, 'Nimbus Cloud Tools', 'invoices@nimbus.example', '4085550103'),
    (4, 'Hartley & Moss Advisors', 'accounts@hartleymoss.example', '4085550104'),
    (5, 'Skyway Travel Desk', 'ap@skyway.example', NULL),
    (6, 'O''Neill Print Works', 'billing@oneill.example', '4085550106');

INSERT INTO erp.customers (customer_id, customer_name, email, phone, company_name) VALUES
    (1, 'Fjord Analytics', 'ap@fjord.example', '2065550111', 'Fjord Analytics AS'),
    (2, 'Meridian Bakeries', 'accounts@meridian.example', NULL, 'Meridian Bakeries Ltd.'),
    (3, 'Kestrel Robotics', 'finance@kestrel.example', '2065550113', NULL),
    (4, 'Juniper & Vine Hotels', 'ap@junipervine.example', '2065550114', 'Juniper & Vine'),
    (5, 'Solace Health Clinic', 'billing@solace.example', '2065550115', NULL);

INSERT INTO erp.ap_invoices (ap_invoice_id, supplier_id, invoice_number, invoice_date, due_date, memo) VALUES
    (101, 1, 'QLS-2026-0417', '2026-10-01', '2026-10-31', 'Paper and toner, October'),
    (102, 2, 'BOL-11/2026',   '2026-11-01', '2026-11-05', 'Office rent, November'),
    (103, 3, 'NCT-88121',     '2026-10-15', '2026-11-14', 'Annual licences'),
    (104, 4, 'HM-2026-031',   '2026-10-20', '2026-11-19', 'Audit preparation'),
    (105, 5, 'STD-5530',      '2026-10-22', '2026-11-21', NULL),
    (106, 6, 'ONP-7',         '2026-10-25', '2026-11-24', 'Brochures'),
    (107, 1, 'QLS-2026-0502', '2026-11-03', '2026-12-03', 'Paper and toner, November'),
    (108, 2, 'BOL-12/2026',   '2026-12-01', '2026-12-05', 'Office rent, December'),
    (109, 3, 'NCT-88407',     '2026-11-15', '2026-12-15', 'Seats added mid-term'),
    (110, 4, 'HM-2026-044',   '2026-11-20', '2026-12-20', 'Tax advisory, quarterly');

INSERT INTO erp.ap_invoice_lines (ap_invoice_id, line_no, gl_account, description, amount) VALUES
    (101, 1, 'Office Supplies',        'Copy paper, 40 reams',      219.60),
    (101, 2, 'Office Supplies',        'Toner cartridges',          0.10),
    (101, 3, 'Office Supplies',        'Delivery',                  0.20),
    (102, 1, 'Rent',                   'Suite 400, November',       12500.00),
    (103, 1, 'Software Subscriptions', 'Design suite, 12 seats',    4319.88),
    (103, 2, 'Software Subscriptions', 'Storage add-on',            0.99),
    (104, 1, 'Professional Services',  'Audit preparation, 14 h',   3430.00),
    (105, 1, 'Travel',                 'Flights SJC-SEA',           612.37),
    (105, 2, 'Travel',                 'Hotel, 2 nights',           389.01),
    (106, 1, 'Office Supplies',        'Brochures, 2,500',          1234567.89),
    (107, 1, 'Office Supplies',        'Copy paper, 25 reams',      137.25),
    (108, 1, 'Rent',                   'Suite 400, December',       12500.00),
    (108, 2, 'Rent',                   'Parking, 3 spaces',         0.01),
    (109, 1, 'Software Subscriptions', 'Design suite, 2 seats',     719.98),
    (110, 1, 'Professional Services',  'Tax advisory',              2750.00),
    (110, 2, 'Travel',                 'Mileage',                   43.17);

INSERT INTO erp.ar_invoices (ar_invoice_id, customer_id, invoice_number, invoice_date, due_date) VALUES
    (201, 1, 'AR-2026-1001', '2026-10-05', '2026-11-04'),
    (202, 2, 'AR-2026-1002', '2026-10-06', '2026-11-05'),
    (203, 3, 'AR-2026-1003', '2026-10-12', '2026-11-11'),
    (204, 4, 'AR-2026-1004', '2026-10-19', '2026-11-18'),
    (205, 5, 'AR-2026-1005', '2026-10-26', '2026-11-25'),
    (206, 1, 'AR-2026-1006', '2026-11-05', '2026-12-05'),
    (207, 3, 'AR-2026-1007', '2026-11-12', '2026-12-12');

INSERT INTO erp.ar_invoice_lines (ar_invoice_id, line_no, description, quantity, unit_price) VALUES
    (201, 1, 'Data pipeline build, days',  12.00, 1150.00),
    (201, 2, 'Support, hours',              3.50,  140.10),
    (202, 1, 'Menu analytics workshop',     1.00, 2400.00),
    (203, 1, 'Controller firmware review',  7.00,  180.33),
    (203, 2, 'Expenses',                    1.00,    0.07),
    (204, 1, 'Booking engine integration',  1.00, 98765.43),
    (205, 1, 'Records migration, hours',   20.25,   95.60),
    (206, 1, 'Support, hours',              6.00,  140.10),
    (207, 1, 'Firmware review follow-up',   2.00,  180.33),
    (207, 2, 'Expenses',                    1.00,    0.02);
