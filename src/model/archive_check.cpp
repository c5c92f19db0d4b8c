#include "model/archive_check.h"

#include <zlib.h>

#include <algorithm>
#include <fstream>
#include <utility>
#include <vector>

#include "common/error.h"
#include "model/module_code_check.h"

namespace genre {

namespace {

[[noreturn]] void corrupt(const std::string& path, const std::string& why) {
  throw Error(ErrorKind::kModelFile, path, "truncated or corrupt model file (" + why + ")");
}

std::uint64_t le(std::string_view b, std::size_t at, int n) {
  std::uint64_t v = 0;
  for (int k = n - 1; k >= 0; --k) v = v << 8 | static_cast<unsigned char>(b[at + k]);
  return v;
}

// Reads byte ranges of the file, each checked against its size first.
class File {
 public:
  explicit File(const std::string& path) : path_(path), in_(path, std::ios::binary) {
    in_.seekg(0, std::ios::end);
    size_ = in_ ? static_cast<std::uint64_t>(in_.tellg()) : 0;
    if (!in_) throw Error(ErrorKind::kUnreadable, path, "cannot read the model file");
  }
  std::uint64_t size() const { return size_; }
  bool holds(std::uint64_t offset, std::uint64_t n) const {
    return offset <= size_ && n <= size_ - offset;
  }
  std::string read(std::uint64_t offset, std::uint64_t n, const std::string& what) {
    if (!holds(offset, n)) corrupt(path_, what + " lies past the end of the file");
    std::string bytes(n, '\0');
    in_.seekg(static_cast<std::streamoff>(offset));
    in_.read(bytes.data(), static_cast<std::streamsize>(n));
    if (!in_) throw Error(ErrorKind::kUnreadable, path_, "read failed");
    return bytes;
  }

 private:
  std::string path_;
  std::ifstream in_;
  std::uint64_t size_ = 0;
};

struct Directory {
  std::uint64_t entries = 0, size = 0, offset = 0;
};

// The end-of-central-directory record (and its zip64 form, which PyTorch always writes).
Directory find_directory(File& file, const std::string& path) {
  const std::uint64_t tail_size = std::min<std::uint64_t>(file.size(), 22 + 65535);
  const std::string tail = file.read(file.size() - tail_size, tail_size, "the zip's end");
  const std::size_t p =
      tail.size() < 22 ? std::string::npos : tail.rfind("PK\x05\x06", tail.size() - 22);
  if (p == std::string::npos) corrupt(path, "no zip directory at its end");
  Directory d{le(tail, p + 10, 2), le(tail, p + 12, 4), le(tail, p + 16, 4)};
  if (p >= 20 && tail.compare(p - 20, 4, "PK\x06\x07") == 0) {
    const std::string z = file.read(le(tail, p - 20 + 8, 8), 56, "the zip64 directory record");
    if (z.compare(0, 4, "PK\x06\x06") != 0) corrupt(path, "bad zip64 directory record");
    d = Directory{le(z, 32, 8), le(z, 40, 8), le(z, 48, 8)};
  }
  if (!file.holds(d.offset, d.size))
    corrupt(path, "the zip directory lies past the end of the file");
  if (d.entries > d.size / 46) corrupt(path, "the zip directory claims more entries than it holds");
  return d;
}

// A deflated record, inflated to the size its directory entry states (already bounded).
std::string inflate_record(const std::string& packed, std::uint64_t size, const std::string& path,
                           const std::string& name) {
  std::string out(size, '\0');
  z_stream z{};
  if (inflateInit2(&z, -MAX_WBITS) != Z_OK) corrupt(path, "zlib failed to start");
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(packed.data()));
  z.avail_in = static_cast<uInt>(packed.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  const int status = inflate(&z, Z_FINISH);
  const std::uint64_t made = z.total_out;
  inflateEnd(&z);
  if (status != Z_STREAM_END || made != size) corrupt(path, "'" + name + "' does not inflate");
  return out;
}

// Records LibTorch parses as pickles or compiles as TorchScript are checked whole; they are
// small (no weights), so a larger one is refused rather than read.
constexpr std::uint64_t kMaxCheckedRecord = std::uint64_t{64} << 20;

bool ends_with(const std::string& s, const std::string& tail) {
  return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

// How each pickle opcode's argument is laid out (protocols 0 to 5).
enum class Arg {
  kNone,
  kFixed1,
  kFixed2,
  kFixed4,
  kFixed8,
  kLength1,
  kLength4,
  kSignedLength4,
  kLength8,
  kFrame,
  kMemo4,
  kLine,
  kTwoLines,
  kUnknown
};

Arg arg_of(unsigned char op) {
  static const std::pair<Arg, std::string_view> table[] = {
      {Arg::kLength4, "XB"},           // BINUNICODE, BINBYTES
      {Arg::kSignedLength4, "T\x8b"},  // BINSTRING, LONG4
      {Arg::kLength1,
       "\x8c"
       "CU\x8a"},                       // SHORT_BINUNICODE, SHORT_BINBYTES, SHORT_BINSTRING, LONG1
      {Arg::kLength8, "\x8d\x8e\x96"},  // BINUNICODE8, BINBYTES8, BYTEARRAY8
      {Arg::kFrame, "\x95"},
      {Arg::kMemo4, "rj"},  // LONG_BINPUT, LONG_BINGET
      {Arg::kFixed1, "qhK\x80\x82"},
      {Arg::kFixed2, "M\x83"},
      {Arg::kFixed4, "J\x84"},
      {Arg::kFixed8, "G"},
      {Arg::kTwoLines, "ci"},  // GLOBAL, INST: module and name lines
      {Arg::kLine, "ILFSVPpg"},
      {Arg::kNone, "()]}aeusbt012RNldoQ\x81\x85\x86\x87\x88\x89\x8f\x90\x91\x92\x93\x94\x97\x98"},
  };
  for (const auto& [arg, ops] : table)
    if (ops.find(static_cast<char>(op)) != std::string_view::npos) return arg;
  return Arg::kUnknown;  // STOP ('.'), or an opcode LibTorch rejects on its own
}

// What an opcode does to the pickle's stack (Python's pickletools semantics): `need` items taken
// from above the innermost mark, `make` pushed back; kToMark ops also take the mark and what lies
// above it, kIntoMark ops need `need` items below the mark as well (the list, dict or set filled).
enum class Marks { kNone, kPush, kToMark, kIntoMark };
struct StackEffect {
  int need = 0, make = 0;
  Marks marks = Marks::kNone;
};

StackEffect effect_of(char op) {
  switch (op) {
    case '(':
      return {0, 0, Marks::kPush};
    case '0':  // POP
    case '.':  // STOP
      return {1, 0};
    case '1':  // POP_MARK
      return {0, 0, Marks::kToMark};
    case '2':  // DUP
      return {1, 2};
    case 'p':  // PUT, BINPUT, LONG_BINPUT, MEMOIZE, READONLY_BUFFER, TUPLE1
    case 'q':
    case 'r':
    case '\x94':
    case '\x98':
    case '\x85':
    case 'Q':  // BINPERSID
      return {1, 1};
    case 'R':  // REDUCE, BUILD, NEWOBJ, STACK_GLOBAL, TUPLE2, APPEND
    case 'b':
    case '\x81':
    case '\x93':
    case '\x86':
    case 'a':
      return {2, 1};
    case 's':  // SETITEM, TUPLE3, NEWOBJ_EX
    case '\x87':
    case '\x92':
      return {3, 1};
    case 'e':  // APPENDS, SETITEMS, ADDITEMS
    case 'u':
    case '\x90':
      return {1, 1, Marks::kIntoMark};
    case 'd':  // DICT, LIST, TUPLE, FROZENSET, INST: the items above the mark become one
    case 'l':
    case 't':
    case '\x91':
    case 'i':
      return {0, 1, Marks::kToMark};
    case 'o':  // OBJ: the class and its arguments above the mark
      return {1, 1, Marks::kToMark};
    case '\x80':  // PROTO, FRAME
    case '\x95':
      return {0, 0};
    default:  // every other known opcode pushes one value
      return {0, 1};
  }
}

// Deeper nesting than any model's pickle; bounds the scan's own memory.
constexpr std::size_t kMaxMarks = 10000;

}  // namespace

void check_pickle_bounds(std::string_view b, const std::string& path, const std::string& what) {
  std::size_t i = 0;
  std::size_t at = 0;  // the current opcode
  auto fail = [&](const std::string& why) {
    corrupt(path, what + " byte " + std::to_string(at) + ": " + why);
  };
  auto fixed = [&](int n) {  // a little-endian argument of n bytes
    if (b.size() - i < static_cast<std::size_t>(n)) fail("cut short");
    const std::uint64_t v = le(b, i, n);
    i += n;
    return v;
  };
  auto payload = [&](std::uint64_t n) {
    if (n > b.size() - i)
      fail("claims " + std::to_string(n) + " bytes, " + std::to_string(b.size() - i) + " remain");
    i += n;
  };
  auto line = [&] {
    const std::size_t nl = b.find('\n', i);
    if (nl == std::string_view::npos) fail("cut short");
    i = nl + 1;
  };
  // LibTorch's unpickler (1.13) indexes its stack without checking its depth: a BUILD on a stack
  // of one swapped memory outside it (found by fuzz_model_file). Items above each mark, innermost
  // last.
  std::vector<std::size_t> stack{0};
  auto apply = [&](unsigned char op) {
    const StackEffect e = effect_of(static_cast<char>(op));
    if (e.marks == Marks::kPush) {
      if (stack.size() > kMaxMarks) fail("marks nested too deep");
      stack.push_back(0);
      return;
    }
    if (e.marks == Marks::kToMark || e.marks == Marks::kIntoMark) {
      if (stack.size() < 2) fail("no mark to pop to");
      if (stack.back() < static_cast<std::size_t>(e.marks == Marks::kToMark ? e.need : 0))
        fail("too few items above the mark");
      stack.pop_back();
      if (e.marks == Marks::kIntoMark && stack.back() < static_cast<std::size_t>(e.need))
        fail("nothing below the mark to add to");
      if (e.marks == Marks::kToMark) stack.back() += static_cast<std::size_t>(e.make);
      return;
    }
    if (stack.back() < static_cast<std::size_t>(e.need))
      fail("the stack holds " + std::to_string(stack.back()) + ", the opcode takes " +
           std::to_string(e.need));
    stack.back() =
        stack.back() - static_cast<std::size_t>(e.need) + static_cast<std::size_t>(e.make);
  };
  while (i < b.size()) {
    at = i;
    const unsigned char op = static_cast<unsigned char>(b[i]);
    if (op == '.') {  // STOP: the value left on the stack is the pickle's
      apply(op);
      return;
    }
    switch (arg_of(static_cast<unsigned char>(b[i++]))) {
      case Arg::kNone:
        break;
      case Arg::kFixed1:
        fixed(1);
        break;
      case Arg::kFixed2:
        fixed(2);
        break;
      case Arg::kFixed4:
        fixed(4);
        break;
      case Arg::kFixed8:
        fixed(8);
        break;
      case Arg::kLength1:
        payload(fixed(1));
        break;
      case Arg::kLength4:
        payload(fixed(4));
        break;
      case Arg::kLength8:
        payload(fixed(8));
        break;
      case Arg::kSignedLength4: {
        const std::uint64_t n = fixed(4);
        if (n & 0x80000000u) fail("negative length");
        payload(n);
        break;
      }
      case Arg::kFrame: {  // the length of the block that follows, which stays to be read
        const std::uint64_t n = fixed(8);
        if (n > b.size() - i) fail("a frame of " + std::to_string(n) + " bytes past the end");
        break;
      }
      case Arg::kMemo4: {
        // A memo index is at most the number of objects before it, so below the pickle's
        // length; LibTorch reserves room for twice the index.
        const std::uint64_t id = fixed(4);
        if (id > b.size())
          fail("memo index " + std::to_string(id) + " in " + std::to_string(b.size()) + " bytes");
        break;
      }
      case Arg::kLine:
        line();
        break;
      case Arg::kTwoLines:
        line(), line();
        break;
      case Arg::kUnknown:
        return;
    }
    apply(op);
  }
}

void check_model_archive(const std::string& path) {
  File file(path);
  const Directory dir = find_directory(file, path);
  const std::string cd = file.read(dir.offset, dir.size, "the zip directory");
  std::size_t pos = 0;
  for (std::uint64_t e = 0; e < dir.entries; ++e) {
    if (cd.size() - pos < 46 || cd.compare(pos, 4, "PK\x01\x02") != 0)
      corrupt(path, "bad zip directory entry " + std::to_string(e));
    const std::uint64_t method = le(cd, pos + 10, 2), name_len = le(cd, pos + 28, 2),
                        extra_len = le(cd, pos + 30, 2), comment_len = le(cd, pos + 32, 2);
    std::uint64_t packed = le(cd, pos + 20, 4), size = le(cd, pos + 24, 4),
                  local = le(cd, pos + 42, 4);
    if (cd.size() - pos - 46 < name_len + extra_len + comment_len)
      corrupt(path, "bad zip directory entry " + std::to_string(e));
    const std::string name = cd.substr(pos + 46, name_len);
    // Zip64: the saturated fields follow in the extra field 0x0001, in this order.
    for (std::size_t x = pos + 46 + name_len; x + 4 <= pos + 46 + name_len + extra_len;) {
      const std::uint64_t id = le(cd, x, 2), len = le(cd, x + 2, 2);
      std::size_t f = x + 4;
      const std::size_t end = std::min<std::size_t>(f + len, pos + 46 + name_len + extra_len);
      if (id == 1)
        for (std::uint64_t* v : {&size, &packed, &local})
          if (*v == 0xffffffffu && f + 8 <= end) *v = le(cd, f, 8), f += 8;
      x = end;
    }
    pos += 46 + name_len + extra_len + comment_len;

    const std::string head = file.read(local, 30, "the local header of '" + name + "'");
    if (head.compare(0, 4, "PK\x03\x04") != 0) corrupt(path, "bad local header of '" + name + "'");
    const std::uint64_t data = local + 30 + le(head, 26, 2) + le(head, 28, 2);
    if (!file.holds(data, packed)) corrupt(path, "'" + name + "' ends past the end of the file");
    if (method != 0 && method != 8)
      corrupt(path, "'" + name + "' uses compression method " + std::to_string(method));
    // Deflate packs at most 1032 bytes into one; LibTorch allocates the stated size first.
    if (method == 0 ? size != packed : size > packed * 1032 + 1024)
      corrupt(path, "'" + name + "' claims " + std::to_string(size) + " bytes from " +
                        std::to_string(packed));
    const bool pickle = ends_with(name, "pkl"), code = ends_with(name, ".py");
    if (!pickle && !code) continue;
    if (size > kMaxCheckedRecord)
      corrupt(path, "'" + name + "' claims " + std::to_string(size) + " bytes");
    std::string bytes = file.read(data, packed, "'" + name + "'");
    if (method == 8) bytes = inflate_record(bytes, size, path, name);
    if (pickle) check_pickle_bounds(bytes, path, "'" + name + "'");
    if (code) check_module_code(bytes, path, name);
  }
}

}  // namespace genre
