// multipart/form-data parsing and the path checks of the file routes (cpp/app/files.h).
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "app/files.h"
#include "http/multipart.h"

using namespace comfy;
using namespace comfy::http;
namespace fs = std::filesystem;

namespace {
std::string form(const std::string& boundary, const std::vector<std::pair<std::string, std::string>>& parts) {
  std::string b;
  for (const auto& [head, body] : parts) b += "--" + boundary + "\r\n" + head + "\r\n\r\n" + body + "\r\n";
  return b + "--" + boundary + "--\r\n";
}
}  // namespace

TEST(Multipart, Boundary) {
  EXPECT_EQ(multipart_boundary("multipart/form-data; boundary=abc123").value(), "abc123");
  EXPECT_EQ(multipart_boundary("Multipart/Form-Data;boundary=\"a b:c\"").value(), "a b:c");
  EXPECT_EQ(multipart_boundary("multipart/form-data; charset=utf-8; boundary=----WebKitFormBoundaryX").value(),
            "----WebKitFormBoundaryX");
  EXPECT_FALSE(multipart_boundary("application/x-www-form-urlencoded"));
  EXPECT_FALSE(multipart_boundary("multipart/form-data"));
  EXPECT_FALSE(multipart_boundary("multipart/form-data; boundary="));
  EXPECT_FALSE(multipart_boundary("multipart/form-data; boundary=" + std::string(71, 'a')));
  EXPECT_FALSE(multipart_boundary("multipart/form-data; boundary=\"ab \""));  // trailing space
  EXPECT_FALSE(multipart_boundary("multipart/form-data; boundary=a\x01z"));
  EXPECT_FALSE(multipart_boundary("multipart/mixed; boundary=abc"));
}

TEST(Multipart, FieldsAndFile) {
  std::string body = form("XyZ", {{"Content-Disposition: form-data; name=\"type\"", "input"},
                                  {"content-disposition: form-data; name=\"image\"; filename=\"a b.png\"\r\n"
                                   "Content-Type: image/png",
                                   std::string("\x89PNG\n--XyZ\0\xff\r\n", 14)},
                                  {"Content-Disposition: form-data; name=overwrite", "true"}});
  std::vector<MultipartPart> parts;
  std::string err;
  ASSERT_TRUE(parse_multipart(body, "XyZ", parts, &err)) << err;
  ASSERT_EQ(parts.size(), 3u);
  EXPECT_EQ(parts[0].name, "type");
  EXPECT_FALSE(parts[0].filename);
  EXPECT_EQ(parts[0].body, "input");
  EXPECT_EQ(parts[1].name, "image");
  EXPECT_EQ(parts[1].filename.value(), "a b.png");
  EXPECT_EQ(parts[1].content_type, "image/png");
  EXPECT_EQ(parts[1].body, std::string_view("\x89PNG\n--XyZ\0\xff\r\n", 14));  // bare LF: content
  EXPECT_EQ(parts[2].body, "true");
  EXPECT_EQ(find_part(parts, "overwrite"), &parts[2]);
  EXPECT_EQ(find_part(parts, "nope"), nullptr);
}

TEST(Multipart, PreambleEpiloguePaddingAndEmptyParts) {
  std::string body = "preamble text\r\n--b  \t\r\nContent-Disposition: form-data; name=\"x\"\r\n\r\n\r\n--b\r\n"
                     "Content-Disposition: form-data; name=\"y\"\r\n\r\nv\r\n--b--epilogue";
  std::vector<MultipartPart> parts;
  ASSERT_TRUE(parse_multipart(body, "b", parts));
  ASSERT_EQ(parts.size(), 2u);
  EXPECT_EQ(parts[0].body, "");
  EXPECT_EQ(parts[1].body, "v");
  EXPECT_TRUE(parse_multipart("--b--\r\n", "b", parts));
  EXPECT_TRUE(parts.empty());
}

TEST(Multipart, MalformedBodiesAreErrors) {
  std::vector<MultipartPart> parts;
  std::string err;
  const char* cd = "Content-Disposition: form-data; name=\"x\"";
  auto bad = [&](const std::string& body) { return !parse_multipart(body, "b", parts, &err); };
  EXPECT_TRUE(bad(""));
  EXPECT_TRUE(bad("no delimiter at all"));
  EXPECT_TRUE(bad(std::string("--b\r\n") + cd + "\r\n\r\nvalue"));             // no close delimiter
  EXPECT_TRUE(bad(std::string("--b\r\n") + cd + "\r\n\r\nvalue\r\n--b"));      // truncated after delimiter
  EXPECT_TRUE(bad(std::string("--b\r\n") + cd + "\r\nvalue\r\n--b--"));        // no blank line after headers
  EXPECT_TRUE(bad("--b\r\nContent-Type: text/plain\r\n\r\nv\r\n--b--"));      // no Content-Disposition
  EXPECT_TRUE(bad("--b\r\nContent-Disposition: attachment; name=x\r\n\r\nv\r\n--b--"));
  EXPECT_TRUE(bad("--b\r\nContent-Disposition: form-data; name\r\n\r\nv\r\n--b--"));  // param without '='
  EXPECT_TRUE(bad("--b\r\nbroken header line\r\n\r\nv\r\n--b--"));
  EXPECT_TRUE(bad(std::string("--bXX\r\n") + cd + "\r\n\r\nv\r\n--b--"));      // boundary line with junk
  EXPECT_TRUE(bad(std::string("--b\n") + cd + "\n\nv\n--b--"));                // bare LF framing
  EXPECT_FALSE(err.empty());
  std::string many;
  for (int i = 0; i < 5; ++i) many += std::string("--b\r\n") + cd + "\r\n\r\nv\r\n";
  EXPECT_FALSE(parse_multipart(many + "--b--", "b", parts, &err, 4));
  EXPECT_TRUE(parse_multipart(many + "--b--", "b", parts, &err, 5));
}

TEST(Multipart, ContentDispositionLikeAiohttp) {
  auto cd = parse_content_disposition("form-data; name=\"image\"; filename=\"/etc/passwd\"");
  ASSERT_TRUE(cd);
  EXPECT_EQ(cd->param("filename").value(), "etc/passwd");  // leading '/' and '\' stripped
  cd = parse_content_disposition("form-data; name=\"a\"; filename=\"x\\\"y;z.png\"");
  ASSERT_TRUE(cd);
  EXPECT_EQ(cd->param("filename").value(), "x\"y;z.png");
  cd = parse_content_disposition("form-data; name=a; filename=\"plain.png\"; filename*=UTF-8''%E2%82%AC.png");
  ASSERT_TRUE(cd);
  EXPECT_EQ(cd->param("filename*").value(), "\xe2\x82\xac.png");
  EXPECT_FALSE(parse_content_disposition("form-data; name=a; name=b"));  // repeated key
  EXPECT_FALSE(parse_content_disposition("form data; name=a"));
  cd = parse_content_disposition("form-data; name=a; filename*=bogus-charset''x");
  ASSERT_TRUE(cd);
  EXPECT_FALSE(cd->param("filename*"));  // skipped, as aiohttp does

  std::vector<MultipartPart> parts;
  std::string body = "--b\r\nContent-Disposition: form-data; name=\"image\"; filename=\"plain.png\"; "
                     "filename*=utf-8''..%2Fevil.png\r\n\r\nv\r\n--b--";
  ASSERT_TRUE(parse_multipart(body, "b", parts));
  EXPECT_EQ(parts[0].filename.value(), "../evil.png");  // filename* wins; the route refuses it
}

TEST(FilePaths, NormpathJoinInside) {
  EXPECT_EQ(files::normpath(""), ".");
  EXPECT_EQ(files::normpath("a//b/./c/.."), "a/b");
  EXPECT_EQ(files::normpath("../a"), "../a");
  EXPECT_EQ(files::normpath("/../a"), "/a");
  EXPECT_EQ(files::normpath("/r/in/../../etc"), "/etc");
  EXPECT_EQ(files::normpath("a/../.."), "..");
  EXPECT_EQ(files::join_path("/r", "/etc"), "/etc");
  EXPECT_EQ(files::join_path("/r", "x"), "/r/x");
  EXPECT_EQ(files::join_path("/r/", ""), "/r/");
  EXPECT_TRUE(files::is_inside("/r/in", "/r/in"));
  EXPECT_TRUE(files::is_inside("/r/in", "/r/in/x"));
  EXPECT_FALSE(files::is_inside("/r/in", "/r/input"));  // whole components, not string prefixes
  EXPECT_FALSE(files::is_inside("/r/in", "/r"));
  EXPECT_TRUE(files::is_inside("/", "/x"));
}

TEST(FilePaths, NamesExtensionsAnnotations) {
  EXPECT_EQ(files::split_ext("a.png"), (std::pair<std::string, std::string>{"a", ".png"}));
  EXPECT_EQ(files::split_ext("a.tar.gz"), (std::pair<std::string, std::string>{"a.tar", ".gz"}));
  EXPECT_EQ(files::split_ext(".png"), (std::pair<std::string, std::string>{".png", ""}));
  EXPECT_EQ(files::split_ext("..a.b"), (std::pair<std::string, std::string>{"..a", ".b"}));
  EXPECT_EQ(files::split_ext("noext"), (std::pair<std::string, std::string>{"noext", ""}));
  EXPECT_EQ(files::split_ext("d.x/noext"), (std::pair<std::string, std::string>{"d.x/noext", ""}));
  EXPECT_EQ(files::base_name("a/b/c.png"), "c.png");
  EXPECT_EQ(files::base_name("a/"), "");
  using A = std::pair<std::string, std::optional<std::string>>;
  EXPECT_EQ(files::annotated_name("x.png [output]"), (A{"x.png", "output"}));
  EXPECT_EQ(files::annotated_name("x.png [input]"), (A{"x.png", "input"}));
  EXPECT_EQ(files::annotated_name("x.png[temp]"), (A{"x.pn", "temp"}));  // one more character goes
  EXPECT_EQ(files::annotated_name("[output]"), (A{"", "output"}));
  EXPECT_EQ(files::annotated_name("x.png [user]"), (A{"x.png [user]", std::nullopt}));
}

TEST(FilePaths, UnsafeNames) {
  EXPECT_EQ(files::unsafe_name_reason("a/b.png", true), nullptr);
  EXPECT_NE(files::unsafe_name_reason("a/b.png", false), nullptr);
  EXPECT_NE(files::unsafe_name_reason(std::string("a\0b", 3), true), nullptr);
  EXPECT_NE(files::unsafe_name_reason("a\\b", true), nullptr);
  EXPECT_NE(files::unsafe_name_reason("a\r\nX: y", true), nullptr);
  EXPECT_NE(files::unsafe_name_reason(std::string(256, 'a'), true), nullptr);
  EXPECT_EQ(files::unsafe_name_reason(std::string(255, 'a'), true), nullptr);
  EXPECT_EQ(files::unsafe_name_reason(std::string(200, 'a') + "/" + std::string(200, 'b'), true), nullptr);
  EXPECT_NE(files::unsafe_name_reason(std::string(4000, 'a'), true), nullptr);
  EXPECT_EQ(files::unsafe_name_reason("\xe2\x82\xac.png", false), nullptr);  // UTF-8 is fine
}

TEST(FilePaths, MimeTypes) {
  EXPECT_EQ(files::guess_mime("a.png"), "image/png");
  EXPECT_EQ(files::guess_mime("A.JPG"), "image/jpeg");
  EXPECT_EQ(files::guess_mime("a.webp"), "image/webp");
  EXPECT_EQ(files::guess_mime("a.mp4"), "video/mp4");
  EXPECT_EQ(files::guess_mime("a.png.gz"), "image/png");
  EXPECT_EQ(files::guess_mime("a.svgz"), "image/svg+xml");
  EXPECT_EQ(files::guess_mime("a.safetensors"), "");
  EXPECT_EQ(files::guess_mime("noext"), "");
  for (const char* t : {"text/html", "application/javascript; charset=utf-8", "text/css", "image/svg+xml",
                        "application/xhtml+xml", "TEXT/HTML", "application/rss+xml", "text/xml"})
    EXPECT_TRUE(files::is_dangerous_type(t)) << t;
  for (const char* t : {"image/png", "video/mp4", "application/json", "text/plain"})
    EXPECT_FALSE(files::is_dangerous_type(t)) << t;
}

TEST(FilePaths, RangesLikeAiohttp) {
  auto R = [](const char* h, uint64_t size) {
    auto r = files::parse_range(h ? std::optional<std::string>(h) : std::nullopt, size);
    return std::tuple<int, uint64_t, uint64_t>{r.status, r.start, r.count};
  };
  using T = std::tuple<int, uint64_t, uint64_t>;
  EXPECT_EQ(std::get<0>(R(nullptr, 10)), 200);
  EXPECT_EQ(R("bytes=0-3", 10), (T{206, 0, 4}));
  EXPECT_EQ(R("BYTES=2-", 10), (T{206, 2, 8}));
  EXPECT_EQ(R("bytes=-3", 10), (T{206, 7, 3}));
  EXPECT_EQ(R("bytes=-30", 10), (T{206, 0, 10}));
  EXPECT_EQ(R("bytes=5-100", 10), (T{206, 5, 5}));
  EXPECT_EQ(R("bytes=9-9", 10), (T{206, 9, 1}));
  EXPECT_EQ(std::get<0>(R("bytes=10-", 10)), 416);
  EXPECT_EQ(std::get<0>(R("bytes=4-3", 10)), 416);
  EXPECT_EQ(std::get<0>(R("bytes=0-1,4-5", 10)), 416);
  EXPECT_EQ(std::get<0>(R("bytes=-", 10)), 416);
  EXPECT_EQ(std::get<0>(R("items=0-1", 10)), 416);
  EXPECT_EQ(std::get<0>(R("bytes=0-", 0)), 416);
  EXPECT_EQ(std::get<0>(R("bytes=99999999999999999999999-", 10)), 416);
}

class FileRoots : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/comfy_files_XXXXXX";
    base = mkdtemp(tmpl);
    for (const char* d : {"input", "output", "temp", "outside", "user"}) fs::create_directories(base / d);
    put(base / "outside" / "secret.txt", "secret");
    put(base / "user" / "u.txt", "user");
    put(base / "output" / "a.png", "PNGDATA");
    fs::create_directories(base / "output" / "sub");
    put(base / "output" / "sub" / "b.png", "B");
    fs::create_symlink(base / "outside" / "secret.txt", base / "output" / "leak.txt");
    fs::create_symlink(base / "outside", base / "output" / "leakdir");
    fs::create_symlink(base / "output" / "a.png", base / "output" / "alias.png");
    dirs = {{"input", (base / "input").string()}, {"output", (base / "output").string()},
            {"temp", (base / "temp").string()}, {"user", (base / "user").string()}};
  }
  void TearDown() override { fs::remove_all(base); }
  static void put(const fs::path& p, const std::string& s) { std::ofstream(p, std::ios::binary) << s; }
  static std::string get(const fs::path& p) {
    std::ifstream f(p, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(f), {});
  }
  int view(const std::string& filename, std::optional<std::string> type = std::nullopt,
           std::optional<std::string> sub = std::nullopt) {
    return files::resolve_view(dirs, filename, type, sub).status;
  }
  fs::path base;
  Json dirs;
};

TEST_F(FileRoots, ViewResolution) {
  auto t = files::resolve_view(dirs, std::string("a.png"), std::nullopt, std::nullopt);
  EXPECT_EQ(t.status, 200);
  EXPECT_EQ(t.name, "a.png");
  EXPECT_EQ(view("b.png", "output", "sub"), 200);
  EXPECT_EQ(view("sub/b.png"), 404);             // only the basename is used
  EXPECT_EQ(view("b.png [output]", "input", "sub"), 200);
  EXPECT_EQ(view("alias.png"), 200);             // symlink staying inside
  EXPECT_EQ(files::resolve_view(dirs, std::nullopt, std::nullopt, std::nullopt).status, 404);
  EXPECT_EQ(view("missing.png"), 404);
  EXPECT_EQ(view("."), 404);
  EXPECT_EQ(view("sub"), 404);                   // a directory
  EXPECT_EQ(view(""), 400);
  EXPECT_EQ(view(" [output]"), 400);
  EXPECT_EQ(view("../outside/secret.txt"), 400);
  EXPECT_EQ(view("/etc/passwd"), 400);
  EXPECT_EQ(view("a..png"), 400);                // ComfyUI refuses ".." anywhere
  EXPECT_EQ(view("a.png", "user"), 400);
  EXPECT_EQ(view("a.png", "bogus"), 400);
  EXPECT_EQ(view("u.txt", "../user"), 400);
  EXPECT_EQ(view("secret.txt", "output", ".."), 403);
  EXPECT_EQ(view("secret.txt", "output", "../outside"), 403);
  EXPECT_EQ(view("secret.txt", "output", base.string() + "/outside"), 403);
  EXPECT_EQ(view("secret.txt", "output", "sub/../../outside"), 403);
  EXPECT_EQ(view("b.png", "output", "x/../sub"), 200);
  EXPECT_EQ(view("leak.txt"), 403);              // symlink leaving the root
  EXPECT_EQ(view("secret.txt", "output", "leakdir"), 403);
  EXPECT_EQ(view(std::string("a.png\0.txt", 10)), 400);
  EXPECT_EQ(view("a.png", "output", std::string("sub\0", 4)), 400);
  EXPECT_EQ(view("a\\b.png"), 400);
  EXPECT_EQ(view("a.png", "output", "..\\.."), 400);
  EXPECT_EQ(view(std::string(300, 'a') + ".png"), 400);
  EXPECT_EQ(view("a.png\r\nSet-Cookie: x=1"), 400);
}

TEST_F(FileRoots, UploadPlanning) {
  std::string in = (base / "input").string();
  auto p = files::plan_upload(in, "", "x.png", "one", false);
  ASSERT_EQ(p.status, 200) << p.error;
  EXPECT_EQ(p.name, "x.png");
  ASSERT_EQ(files::write_file(p.path, "one"), 0);
  p = files::plan_upload(in, "", "x.png", "one", false);  // same bytes: reuse, nothing to write
  EXPECT_TRUE(p.duplicate);
  EXPECT_EQ(p.name, "x.png");
  p = files::plan_upload(in, "", "x.png", "two", false);
  EXPECT_EQ(p.name, "x (1).png");
  ASSERT_EQ(files::write_file(p.path, "two"), 0);
  p = files::plan_upload(in, "", "x.png", "three", false);
  EXPECT_EQ(p.name, "x (2).png");
  p = files::plan_upload(in, "", "x.png", "two", false);  // matches "x (1).png"
  EXPECT_EQ(p.name, "x (1).png");
  EXPECT_TRUE(p.duplicate);
  p = files::plan_upload(in, "", "x.png", "four", true);
  EXPECT_EQ(p.name, "x.png");
  EXPECT_FALSE(p.duplicate);
  p = files::plan_upload(in, "deep/er", "y.png", "d", false);
  ASSERT_EQ(p.status, 200);
  EXPECT_TRUE(fs::is_directory(base / "input" / "deep" / "er"));
  EXPECT_EQ(p.path, fs::canonical(base / "input").string() + "/deep/er/y.png");
}

TEST_F(FileRoots, UploadRefusals) {
  std::string in = (base / "input").string();
  for (auto [sub, name] : std::vector<std::pair<std::string, std::string>>{
           {"", "../evil.png"}, {"", ".."}, {"", "."}, {"", ""}, {"", "a/b.png"}, {"", "a\\b.png"},
           {"..", "evil.png"}, {"/tmp", "evil.png"}, {"a/../../x", "evil.png"}, {std::string("s\0", 2), "e.png"},
           {"", std::string("e\0.png", 6)}, {"", std::string(256, 'e')}, {"..\\x", "e.png"}}) {
    auto p = files::plan_upload(in, sub, name, "x", false);
    EXPECT_EQ(p.status, 400) << sub << " / " << name;
    EXPECT_FALSE(p.error.empty());
  }
  fs::create_symlink(base / "outside", base / "input" / "out");
  EXPECT_EQ(files::plan_upload(in, "out", "e.png", "x", false).status, 400);
  EXPECT_EQ(files::plan_upload(in, "out/new", "e.png", "x", false).status, 400);
  EXPECT_FALSE(fs::exists(base / "outside" / "new"));  // nothing created outside
  fs::create_symlink(base / "outside" / "secret.txt", base / "input" / "s.txt");
  EXPECT_EQ(files::plan_upload(in, "", "s.txt", "x", true).status, 400);
  EXPECT_EQ(files::plan_upload(in, "", "s.txt", "x", false).status, 400);
  fs::create_symlink(base / "nowhere", base / "input" / "dangling.png");
  EXPECT_EQ(files::plan_upload(in, "", "dangling.png", "x", true).status, 400);
  EXPECT_EQ(get(base / "outside" / "secret.txt"), "secret");
  EXPECT_FALSE(fs::exists(base / "nowhere"));
  fs::create_directories(base / "input" / "dir.png");
  EXPECT_EQ(files::plan_upload(in, "", "dir.png", "x", true).status, 400);
  EXPECT_EQ(files::plan_upload(in, "", "dir.png", "x", false).name, "dir (1).png");
}

TEST_F(FileRoots, WriteNeverFollowsSymlinks) {
  fs::create_symlink(base / "outside" / "secret.txt", base / "input" / "link.txt");
  EXPECT_NE(files::write_file((base / "input" / "link.txt").string(), "pwned"), 0);
  EXPECT_EQ(get(base / "outside" / "secret.txt"), "secret");
}

TEST_F(FileRoots, MaskOriginal) {
  auto R = [&](const Json& ref) { return files::resolve_mask_original(dirs, ref).has_value(); };
  EXPECT_TRUE(R({{"filename", "a.png"}}));  // type defaults to output
  EXPECT_TRUE(R({{"filename", "a.png [output]"}, {"type", "input"}}));
  EXPECT_TRUE(R({{"filename", "b.png"}, {"subfolder", "sub"}}));
  EXPECT_TRUE(R({{"filename", "sub/b.png"}}));  // not reduced to a basename here
  EXPECT_FALSE(R({{"filename", "a.png"}, {"type", "input"}}));  // missing
  EXPECT_FALSE(R({{"filename", "/etc/passwd"}}));
  EXPECT_FALSE(R({{"filename", "../outside/secret.txt"}}));
  EXPECT_FALSE(R({{"filename", "secret.txt"}, {"subfolder", "../outside"}}));
  EXPECT_FALSE(R({{"filename", "leak.txt"}}));
  EXPECT_FALSE(R({{"filename", "a.png"}, {"type", "user"}}));
  EXPECT_FALSE(R({{"filename", "a.png"}, {"type", nullptr}}));
  EXPECT_FALSE(R({{"filename", 3}}));
  EXPECT_FALSE(R(Json::array()));
}
