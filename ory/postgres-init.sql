-- Databases of Ory Kratos and Ory Keto, created by the postgres image on its
-- first start (docker-compose mounts this file into /docker-entrypoint-initdb.d).
-- The local runner creates the same two databases itself.
CREATE DATABASE kratos;
CREATE DATABASE keto;
