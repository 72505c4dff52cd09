// libpq, PostgreSQL's reference client library (Debian: libpq-dev), for the postgres exporter's binary COPY.
#include <libpq-fe.h>
