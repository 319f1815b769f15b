-- tests/programs: SQL for the SQLite shell (case sqlite): 2000 rows, an index, aggregates.
CREATE TABLE t(a INTEGER PRIMARY KEY, b TEXT, c REAL);
WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM n WHERE x<2000)
INSERT INTO t SELECT x, printf('row%05d', (x*7919)%2000), x*0.5 FROM n;
CREATE INDEX tb ON t(b);
SELECT count(*), sum(a), min(b), max(b), total(c) FROM t;
SELECT b FROM t WHERE b > 'row01990' ORDER BY b;
SELECT a % 10 AS k, count(*), avg(c) FROM t GROUP BY k ORDER BY k;
