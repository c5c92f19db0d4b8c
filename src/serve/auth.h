// genre/serve: the optional API key (Authorization: Bearer KEY), compared in constant time.
#pragma once

#include <string>

namespace genre::serve {

// The key in `path`: its first line without surrounding whitespace. Throws genre::Error when the
// file cannot be read or holds no key.
std::string read_api_key_file(const std::string& path);

// given == secret, in a time that depends only on the secret's length: not on where the strings
// differ, nor on how long `given` is.
bool constant_time_equals(const std::string& given, const std::string& secret);

// True when `authorization` (the header's value) is "Bearer KEY" for this key.
bool authorized(const std::string& authorization, const std::string& key);

// True for 127.0.0.0/8, ::1 and "localhost": addresses only this machine can reach.
bool is_loopback_host(const std::string& host);

}  // namespace genre::serve
