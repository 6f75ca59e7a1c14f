-- Runs after V1.2 (Flyway compares 2 and 10 as numbers): audit exists by now.
-- expect: drop-table
DROP TABLE audit;
