// The kinds of items a space holds (posts, articles, albums and their photos): where each
// is read, changed and deleted, and where it is opened. A live `feed_item` frame and a
// card both go through here, so an item is always fetched from its own kind's endpoint.
import { api } from '../api.js';

const COLLECTIONS = { post: 'posts', article: 'articles', album: 'albums', photo: 'photos' };

/** `/v1/posts/<id>`, `/v1/articles/<id>`, ... (photos: PATCH and DELETE only). */
export function itemPath(kind, id) {
  return `/v1/${COLLECTIONS[kind] ?? 'posts'}/${encodeURIComponent(id)}`;
}

/**
 * An item as the server lets me see it now: {kind, id} (a photo also needs `album_id`,
 * there is no `GET /v1/photos/<id>`: it is read from its album).
 */
export async function fetchItem({ kind = 'post', id, album_id: albumId }) {
  if (kind === 'photo') {
    const album = await api(itemPath('album', albumId));
    const photo = (album.photos || []).find((p) => p.id === id);
    if (!photo) throw Object.assign(new Error('gone'), { status: 404, code: 'item_not_found' });
    return photo;
  }
  return api(itemPath(kind, id));
}

/** Where an item is opened on its own. */
export function itemHref(item) {
  const id = encodeURIComponent(item.id);
  if (item.kind === 'article') return `#/article/${id}`;
  if (item.kind === 'album') return `#/album/${id}`;
  if (item.kind === 'photo') return `#/album/${encodeURIComponent(item.album_id)}?photo=${id}`;
  return `#/post/${id}`;
}

/** Where the author changes it. */
export function editHref(item) {
  const id = encodeURIComponent(item.id);
  if (item.kind === 'article') return `#/write/${id}`;
  if (item.kind === 'album') return `#/album/${id}`;
  return `#/compose/${id}`;
}
