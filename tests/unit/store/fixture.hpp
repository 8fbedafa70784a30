// A populated store for gc and verify tests: two environments (one archived) with layers,
// a snapshot, a manifest object and a cached image, plus garbage of every kind.
#pragma once

#include "karapace/store/store.hpp"
#include "karapace/store/tree_digest.hpp"
#include "karapace/util/paths.hpp"
#include "store/record.hpp"
#include "support.hpp"

namespace karapace::store::test {

struct Populated {
    EnvId a = EnvId::parse(std::string(64, 'a'));
    EnvId b = EnvId::parse(std::string(64, 'b'));
    Digest base, pkgs, snap, archived_layer, manifest, image;
    Digest garbage_layer, garbage_object, garbage_image;

    Layer layer(const Store& s, const std::string& content, LayerKind kind,
                std::optional<Digest> parent = std::nullopt) {
        Layer l;
        l.digest = s.objects().put(content);
        l.kind = kind;
        l.parent = parent;
        l.size = content.size();
        l.created = "2026-11-28T00:00:00Z";
        l.file_count = 1;
        s.layers().put(l);
        return l;
    }

    // An image as the cache leaves it: rootfs/ and a sealed image.json with its tree digest.
    void cached_image(const Store& s, const Digest& d) {
        std::string dir = s.layout().image_dir(d);
        make_dirs(dir + "/rootfs/bin");
        make_dirs(dir + "/rootfs/etc");
        write_text(dir + "/rootfs/bin/sh", "#!fake shell", 0755);
        write_text(dir + "/rootfs/etc/passwd", "root:x:0:0:root:/root:/bin/sh\n");
        boost::json::object record;
        record["digest"] = d.str();
        record["tree"] = to_json(digest_tree(dir + "/rootfs"));
        write_text(dir + "/image.json", seal_record(record));
    }

    explicit Populated(const Store& s) {
        base = layer(s, "base tar", LayerKind::base).digest;
        pkgs = layer(s, "packages tar", LayerKind::packages, base).digest;
        snap = layer(s, "snapshot tar", LayerKind::snapshot, pkgs).digest;
        archived_layer = layer(s, "archived tar", LayerKind::packages).digest;
        manifest = s.objects().put("{\"manifest\": 1}");
        image = sha256("image tarball");
        cached_image(s, image);

        EnvMetadata ma = make_metadata(a);
        ma.name = "web";
        ma.state = EnvState::built;
        ma.manifest_object = manifest;
        ma.layers = {pkgs};  // base is kept through pkgs' parent link
        ma.snapshots = {snap};
        ma.base_image_ref = "file:///rootfs.tar";
        ma.base_image_digest = image;
        ma.manifest_dir = "/home/u/web";
        s.metadata().put(ma);
        make_dirs(s.layout().env_dir(a) + "/upper/etc");
        write_text(s.layout().env_dir(a) + "/upper/etc/motd", "hello");
        make_dirs(s.layout().unpacked_layer_dir(pkgs) + "/usr");

        EnvMetadata mb = make_metadata(b);
        mb.state = EnvState::archived;
        mb.layers = {archived_layer};
        s.metadata().put(mb);

        garbage_layer = layer(s, "unreferenced tar", LayerKind::packages).digest;
        make_dirs(s.layout().unpacked_layer_dir(garbage_layer) + "/etc");
        write_text(s.layout().unpacked_layer_dir(garbage_layer) + "/etc/x", "12345");
        garbage_object = s.objects().put("orphan object");
        garbage_image = sha256("old image");
        cached_image(s, garbage_image);
        make_dirs(s.layout().staging_dir() + "/build-123/upper");
        write_text(s.layout().staging_dir() + "/build-123/upper/f", "half built");
        make_dirs(s.layout().envs_dir() + "/" + std::string(64, 'c') + "/upper");
        write_text(s.layout().metadata_dir() + "/.tmp-crashed-123", "partial");
    }
};

}  // namespace karapace::store::test
