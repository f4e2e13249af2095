-- Tables every query starts from (the database is reset to this before each query).
CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT NOT NULL, email TEXT, country TEXT);
INSERT INTO customers (name, email, country) VALUES
  ('Ada Lovelace', 'ada@example.com', 'UK'),
  ('Grace Hopper', 'grace@example.com', 'US'),
  ('Alan Turing', 'alan@example.com', 'UK');
CREATE TABLE orders (id INTEGER PRIMARY KEY, customer_id INTEGER REFERENCES customers(id), total REAL, ordered_at TEXT);
INSERT INTO orders (customer_id, total, ordered_at) VALUES
  (1, 120.5, '2026-11-01'), (2, 75.0, '2026-11-12'), (1, 42.25, '2026-11-20');
