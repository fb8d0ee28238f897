#pragma once
// Storage URLs carry passwords (postgresql://user:secret@host/db, ?password=secret). Every
// message that can hold a URL goes through redact_credentials before anyone sees it.

#include <string>
#include <string_view>

namespace hpt {

// text with credentials replaced by "***":
// - in any URL-shaped part (any scheme, e.g. postgresql+psycopg2://), the password of the
//   userinfo ("user:***@host");
// - the value of every password-like parameter (password=, sslpassword=, in a query string
//   or a "key=value" connection string);
// - when url is given (the storage URL the message is about), every occurrence of its
//   password and password parameters, raw or %-decoded, wherever they appear (libpq echoes
//   malformed %-escapes back in its messages).
// redact_credentials(url) is the URL to show in messages.
std::string redact_credentials(std::string_view text, std::string_view url = {});

}  // namespace hpt
