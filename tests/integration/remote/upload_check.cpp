// Uploads through RegistryClient to a real registry that remote_test.sh started (argv[1]:
// "127.0.0.1:PORT/repository:tag", argv[2]: a scratch directory). A local copy longer than the
// size the image announces is refused before anything is sent, one whose bytes do not hash to
// the announced digest is stopped before its end, and the registry gets neither blob; a good
// copy goes up. Prints "ok - ..." per check; exits 1 on the first failure.
#include <fcntl.h>
#include <unistd.h>

#include <iostream>
#include <string>

#include "karapace/remote/registry.hpp"
#include "karapace/util/atomic_file.hpp"
#include "karapace/util/digest.hpp"
#include "karapace/util/error.hpp"
#include "karapace/util/fd.hpp"

using namespace karapace;

namespace {

[[noreturn]] void fail(const std::string& what) {
    std::cerr << "FAIL: " << what << "\n";
    std::exit(1);
}

UniqueFd file_with(const std::string& path, const std::string& content) {
    write_file_atomic(path, content, 0600);
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) fail("cannot open " + path);
    return fd;
}

// Uploads `content` announced as `size` bytes hashing to `digest`; it must be refused with
// Errc::store and a message containing `expect`, and leave no blob in the registry.
void refused(remote::RegistryClient& client, const std::string& path, const std::string& content,
             const Digest& digest, std::uint64_t size, const std::string& expect) {
    auto fd = file_with(path, content);
    try {
        client.upload_blob(digest, fd.get(), size, null_progress(), "the test blob");
        fail("a copy that is not the announced blob was accepted (" + path + ")");
    } catch (const Error& e) {
        const std::string message = e.what();
        if (e.code() != Errc::store || message.find(expect) == std::string::npos)
            fail("expected a store error containing \"" + expect + "\", got: " + message);
    }
    if (client.blob_size(digest)) fail("the registry holds the refused blob " + digest.str());
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 3) {
        std::cerr << "usage: upload_check HOST:PORT/REPOSITORY:TAG SCRATCH_DIR\n";
        return 2;
    }
    try {
        auto ref = remote::parse_reference(argv[1], std::nullopt);
        remote::RegistryClient client(ref, remote::Access::push, std::nullopt);
        const std::string dir = argv[2];

        refused(client, dir + "/longer", "announced+extra", sha256("announced"), 9,
                "the local copy is 15 bytes, the image announces 9 bytes; nothing was sent");
        refused(client, dir + "/one", "ab", sha256("a"), 1,
                "the local copy is 2 bytes, the image announces 1 byte; nothing was sent");
        std::cout << "ok - a local copy of another size is refused before sending, sizes in "
                     "plain words\n";

        const std::string meant(4 << 20, 'A');
        std::string changed = meant;
        changed[changed.size() - 1] = 'B';
        refused(client, dir + "/changed", changed, sha256(meant), meant.size(),
                "does not hash to " + sha256(meant).str() + "; the upload was stopped");
        std::cout << "ok - a local copy whose bytes differ is stopped before its end and the "
                     "registry keeps nothing\n";

        const std::string good = "a good blob";
        auto fd = file_with(dir + "/good", good);
        client.upload_blob(sha256(good), fd.get(), good.size(), null_progress(), "the good blob");
        if (client.blob_size(sha256(good)) != good.size()) fail("the good blob did not arrive");
        std::cout << "ok - a good copy is uploaded\n";
    } catch (const Error& e) {
        fail(std::string("unexpected error: ") + e.what());
    }
    return 0;
}
