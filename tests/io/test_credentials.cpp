#include <catch2/catch.hpp>

#include "hpt/io/credentials.hpp"

using hpt::redact_credentials;

// The userinfo password goes, for any scheme; the user, host and the rest stay.
TEST_CASE("redact_credentials hides userinfo passwords", "[io][credentials]") {
  CHECK(redact_credentials("postgresql://u:p4ss@h:5432/db?sslmode=require") ==
        "postgresql://u:***@h:5432/db?sslmode=require");
  CHECK(redact_credentials("postgres://u@h/db") == "postgres://u@h/db");
  CHECK(redact_credentials("postgresql+psycopg2://u:secret@h/db") ==
        "postgresql+psycopg2://u:***@h/db");
  CHECK(redact_credentials("mysql://root:hunter2@db:3306/x") == "mysql://root:***@db:3306/x");
  CHECK(redact_credentials("postgresql://u:p@ss@h/db") == "postgresql://u:***@h/db");
  CHECK(redact_credentials("postgresql://:pw@h/db") == "postgresql://:***@h/db");
  CHECK(redact_credentials("cannot open 'postgresql://u:x@h/db': bad, also sqlite:///a.db") ==
        "cannot open 'postgresql://u:***@h/db': bad, also sqlite:///a.db");
}

// password= parameters (query strings, libpq key=value strings) lose their values.
TEST_CASE("redact_credentials hides password parameters", "[io][credentials]") {
  CHECK(redact_credentials("postgresql://h/db?user=u&password=secret&sslmode=require") ==
        "postgresql://h/db?user=u&password=***&sslmode=require");
  CHECK(redact_credentials("postgresql://h/db?PASSWORD=s3cr%65t") ==
        "postgresql://h/db?PASSWORD=***");
  CHECK(redact_credentials("postgresql://h/db?sslpassword=k&passfile=/home/u/.pgpass") ==
        "postgresql://h/db?sslpassword=***&passfile=/home/u/.pgpass");
  CHECK(redact_credentials("host=h password='se cret' dbname=x") == "host=h password=*** dbname=x");
  CHECK(redact_credentials("host=h password = secret dbname=x") ==
        "host=h password = *** dbname=x");
}

// Parts of the URL that libpq echoes back (a malformed %-escape) are hidden too, raw or
// decoded; a short password only where it stands alone.
TEST_CASE("redact_credentials hides a URL's secrets echoed in a message", "[io][credentials]") {
  const std::string url = "postgresql://u:se%zzcret@h/db";
  CHECK(redact_credentials("invalid percent-encoded token: \"se%zzcret\"", url) ==
        "invalid percent-encoded token: \"***\"");
  CHECK(redact_credentials("authentication failed: s@cret!", "postgresql://u:s%40cret@h/db") ==
        "authentication failed: ***!");
  CHECK(redact_credentials("bad token \"pw\" in pwd", "postgresql://u:pw@h/db") ==
        "bad token \"***\" in pwd");
  CHECK(redact_credentials("bad value \"tops3cret\"", "postgresql://h/db?password=tops3cret") ==
        "bad value \"***\"");
  // Inside a host name or an address a short password is part of it, not itself: the message
  // keeps the host whole (it showed "***.0.0.1", which also told the password).
  const std::string local = "postgresql://hpt:127@127.0.0.1:1/db";
  CHECK(redact_credentials(local + ": connection to server at \"127.0.0.1\", port 1 failed", local) ==
        "postgresql://hpt:***@127.0.0.1:1/db: connection to server at \"127.0.0.1\", port 1 failed");
  CHECK(redact_credentials("password \"127\" refused", local) == "password \"***\" refused");
  // An unescaped '@' or '/' in the password: libpq splits it and echoes a piece; no piece shows.
  const std::string at = "postgresql://hpt:my@secret@127.0.0.1:5/s1";
  CHECK(redact_credentials(at + ": could not translate host name \"secret@127.0.0.1\"", at) ==
        "postgresql://hpt:***@127.0.0.1:5/s1: could not translate host name \"***@127.0.0.1\"");
  const std::string slash = "postgresql://hpt:my/secret@127.0.0.1:5/s1";
  CHECK(redact_credentials("invalid integer value \"my\" for connection option \"port\"", slash) ==
        "invalid integer value \"***\" for connection option \"port\"");
  // A password parameter's value ends before a message's ": " (the colon was swallowed).
  CHECK(redact_credentials("postgresql://h/s1?password=wrongsecret: cannot connect") ==
        "postgresql://h/s1?password=***: cannot connect");
}
