//! Hadoop over HTTP: WebHDFS on the NameNode's web port (listings, file
//! status, block locations, reading files) and the JobHistory server's REST
//! API (finished MapReduce jobs, their configuration and counters). Plain
//! HTTP/1.0 on 127.0.0.1, no Hadoop client in Rust; every call has a timeout.

use std::collections::BTreeMap;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// The JobHistory server's web port: the MiniCluster fixes it.
pub const JHS_WEB_PORT: u16 = 19888;

/// One HTTP/1.0 request to `host:port`; the status code and the body.
pub async fn http(
    method: &str,
    host_port: &str,
    path: &str,
    timeout: Duration,
) -> Result<(u16, String), String> {
    let call = async {
        let mut s = tokio::net::TcpStream::connect(host_port)
            .await
            .map_err(|e| e.to_string())?;
        let req = format!(
            "{method} {path} HTTP/1.0\r\nHost: {host_port}\r\nAccept: application/json\r\n\r\n"
        );
        s.write_all(req.as_bytes())
            .await
            .map_err(|e| e.to_string())?;
        let mut buf = Vec::new();
        s.read_to_end(&mut buf).await.map_err(|e| e.to_string())?;
        let text = String::from_utf8_lossy(&buf).to_string();
        let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
        let code = (head.split_whitespace().nth(1))
            .and_then(|c| c.parse().ok())
            .ok_or_else(|| format!("not an HTTP answer from {host_port}"))?;
        Ok((code, body.to_string()))
    };
    tokio::time::timeout(timeout, call)
        .await
        .map_err(|_| format!("{host_port} did not answer in time"))?
}

/// GET `path` on `host_port` and parse JSON, or say why not.
pub async fn get_json(
    host_port: &str,
    path: &str,
    timeout: Duration,
) -> Result<serde_json::Value, String> {
    let (code, body) = http("GET", host_port, path, timeout).await?;
    if code != 200 {
        let why = remote_exception(&body).unwrap_or_default();
        return Err(format!("http://{host_port}{path} answered {code}{why}"));
    }
    serde_json::from_str(&body).map_err(|e| format!("http://{host_port}{path}: {e}"))
}

/// WebHDFS's own explanation of an error (`RemoteException.message`).
fn remote_exception(body: &str) -> Option<String> {
    let v: serde_json::Value = serde_json::from_str(body).ok()?;
    let m = v["RemoteException"]["message"].as_str()?;
    Some(format!(": {m}"))
}

/// `hdfs://host:port/a/b`, `hdfs:///a/b` or `/a/b` → `/a/b`; `None` for
/// anything else (a relative path, another scheme).
pub fn hdfs_path(uri: &str) -> Option<String> {
    let path = match uri.trim().strip_prefix("hdfs://") {
        Some(rest) => &rest[rest.find('/')?..],
        None => uri.trim(),
    };
    let ok = path.starts_with('/') && !path.split('/').any(|p| p == "..");
    ok.then(|| match path.trim_end_matches('/') {
        "" => "/".to_string(),
        p => p.to_string(),
    })
}

/// What WebHDFS says of one file or folder (`FileStatus`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileStatus {
    /// The entry's name in its folder (empty for the path itself).
    pub name: String,
    pub is_dir: bool,
    pub length: u64,
    pub block_size: u64,
    pub replication: u64,
}

impl FileStatus {
    fn of(v: &serde_json::Value) -> FileStatus {
        let n = |k: &str| v[k].as_u64().unwrap_or(0);
        FileStatus {
            name: v["pathSuffix"].as_str().unwrap_or_default().to_string(),
            is_dir: v["type"] == "DIRECTORY",
            length: n("length"),
            block_size: n("blockSize"),
            replication: n("replication"),
        }
    }
}

/// One HDFS block of a file: where it starts and the DataNodes holding it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Block {
    pub offset: u64,
    pub length: u64,
    pub hosts: Vec<String>,
}

/// WebHDFS on a NameNode's web address (`host:port`).
#[derive(Clone, Debug)]
pub struct WebHdfs {
    pub web: String,
    pub timeout: Duration,
}

/// A path as WebHDFS wants it in a URL (only the characters a lab's paths
/// may hold need escaping).
fn url_path(path: &str) -> String {
    path.replace('%', "%25")
        .replace(' ', "%20")
        .replace('#', "%23")
        .replace('?', "%3F")
}

impl WebHdfs {
    /// The NameNode of `hdfs://host:port`: datalab's native Hadoop serves
    /// WebHDFS on the next port.
    pub fn of_address(address: &str, timeout: Duration) -> Option<WebHdfs> {
        let rest = address.trim().strip_prefix("hdfs://")?;
        let hp = rest.split('/').next()?;
        let (host, port) = hp.rsplit_once(':')?;
        let web = port.parse::<u16>().ok()?.checked_add(1)?;
        Some(WebHdfs {
            web: format!("{host}:{web}"),
            timeout,
        })
    }

    /// The JobHistory server's web address on the same host.
    pub fn history(&self) -> String {
        let host = self.web.rsplit_once(':').map_or("127.0.0.1", |(h, _)| h);
        format!("{host}:{JHS_WEB_PORT}")
    }

    async fn op(&self, path: &str, op: &str) -> Result<serde_json::Value, String> {
        let url = format!("/webhdfs/v1{}?op={op}", url_path(path));
        get_json(&self.web, &url, self.timeout).await
    }

    /// The file or folder at `path`; `Ok(None)` when there is none.
    pub async fn status(&self, path: &str) -> Result<Option<FileStatus>, String> {
        match self.op(path, "GETFILESTATUS").await {
            Ok(v) => Ok(Some(FileStatus::of(&v["FileStatus"]))),
            Err(e) if e.contains(" answered 404") => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// The entries of the folder `path`, by name.
    pub async fn list(&self, path: &str) -> Result<Vec<FileStatus>, String> {
        let v = self.op(path, "LISTSTATUS").await?;
        let entries = v["FileStatuses"]["FileStatus"].as_array().cloned();
        let mut out: Vec<FileStatus> = entries
            .unwrap_or_default()
            .iter()
            .map(FileStatus::of)
            .collect();
        out.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(out)
    }

    /// The blocks of the file `path`, in order.
    pub async fn blocks(&self, path: &str) -> Result<Vec<Block>, String> {
        let v = self.op(path, "GETFILEBLOCKLOCATIONS").await?;
        let list = v["BlockLocations"]["BlockLocation"].as_array().cloned();
        Ok(list
            .unwrap_or_default()
            .iter()
            .map(|b| Block {
                offset: b["offset"].as_u64().unwrap_or(0),
                length: b["length"].as_u64().unwrap_or(0),
                hosts: (b["hosts"].as_array().cloned().unwrap_or_default())
                    .iter()
                    .filter_map(|h| h.as_str().map(str::to_string))
                    .collect(),
            })
            .collect())
    }

    /// The whole content of the file `path` (OPEN: the NameNode names the
    /// DataNode to read it from).
    pub async fn read(&self, path: &str) -> Result<String, String> {
        let v = self.op(path, "OPEN&noredirect=true").await?;
        let location = v["Location"]
            .as_str()
            .ok_or_else(|| format!("WebHDFS gave no DataNode to read {path} from"))?;
        let rest = location
            .strip_prefix("http://")
            .ok_or_else(|| format!("WebHDFS sent {location}"))?;
        let (host_port, url) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
        let (code, body) = http("GET", host_port, url, self.timeout).await?;
        match code {
            200 => Ok(body),
            _ => Err(format!("reading {path} from {host_port} answered {code}")),
        }
    }
}

/// The items of a JobHistory list: its REST API gives an array, or the one
/// object itself when the list has a single item.
fn items(v: &serde_json::Value) -> Vec<serde_json::Value> {
    match v {
        serde_json::Value::Array(a) => a.clone(),
        serde_json::Value::Object(_) => vec![v.clone()],
        _ => Vec::new(),
    }
}

/// A finished MapReduce job as the JobHistory server lists it.
#[derive(Clone, Debug)]
pub struct HistoryJob {
    pub id: String,
    pub name: String,
    pub state: String,
    pub finish_time: u64,
}

/// The JobHistory server's finished jobs, the newest first.
pub async fn history_jobs(history: &str, timeout: Duration) -> Result<Vec<HistoryJob>, String> {
    let v = get_json(history, "/ws/v1/history/mapreduce/jobs", timeout).await?;
    let mut jobs: Vec<HistoryJob> = items(&v["jobs"]["job"])
        .iter()
        .map(|j| {
            let s = |k: &str| j[k].as_str().unwrap_or_default().to_string();
            HistoryJob {
                id: s("id"),
                name: s("name"),
                state: s("state"),
                finish_time: j["finishTime"].as_u64().unwrap_or(0),
            }
        })
        .collect();
    jobs.sort_by_key(|j| std::cmp::Reverse(j.finish_time));
    Ok(jobs)
}

/// One property of a finished job's configuration.
pub async fn job_property(
    history: &str,
    job: &str,
    name: &str,
    timeout: Duration,
) -> Result<Option<String>, String> {
    let url = format!("/ws/v1/history/mapreduce/jobs/{job}/conf");
    let v = get_json(history, &url, timeout).await?;
    let props = v["conf"]["property"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    Ok(props
        .iter()
        .find(|p| p["name"] == name)
        .and_then(|p| p["value"].as_str().map(str::to_string)))
}

/// A finished job's counters, every group's by name (`MAP_INPUT_RECORDS`,
/// `TOTAL_LAUNCHED_MAPS`, …), totals of map and reduce.
pub async fn job_counters(
    history: &str,
    job: &str,
    timeout: Duration,
) -> Result<BTreeMap<String, u64>, String> {
    let url = format!("/ws/v1/history/mapreduce/jobs/{job}/counters");
    let v = get_json(history, &url, timeout).await?;
    Ok(counters_of(&v))
}

fn counters_of(v: &serde_json::Value) -> BTreeMap<String, u64> {
    let mut out = BTreeMap::new();
    for g in items(&v["jobCounters"]["counterGroup"]) {
        for c in items(&g["counter"]) {
            if let (Some(name), Some(total)) = (c["name"].as_str(), c["totalCounterValue"].as_u64())
            {
                out.insert(name.to_string(), total);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hdfs_paths_come_from_uris_or_absolute_paths() {
        assert_eq!(hdfs_path("hdfs:///lab/wc/").as_deref(), Some("/lab/wc"));
        assert_eq!(hdfs_path("hdfs://127.0.0.1:9000/a").as_deref(), Some("/a"));
        assert_eq!(hdfs_path("/a/b").as_deref(), Some("/a/b"));
        assert_eq!(hdfs_path("hdfs:///").as_deref(), Some("/"));
        assert_eq!(hdfs_path("out/wc"), None);
        assert_eq!(hdfs_path("hdfs://host"), None);
        assert_eq!(hdfs_path("/a/../b"), None);
    }

    #[test]
    fn webhdfs_is_the_port_after_the_namenode() {
        let w = WebHdfs::of_address("hdfs://127.0.0.1:9000", Duration::from_secs(1)).unwrap();
        assert_eq!(w.web, "127.0.0.1:9001");
        assert_eq!(w.history(), "127.0.0.1:19888");
        assert!(WebHdfs::of_address("127.0.0.1:9000", Duration::from_secs(1)).is_none());
    }

    #[test]
    fn counters_are_read_from_every_group() {
        let v = serde_json::json!({"jobCounters": {"id": "job_1", "counterGroup": [
            {"counterGroupName": "org.apache.hadoop.mapreduce.JobCounter",
             "counter": [{"name": "TOTAL_LAUNCHED_MAPS", "totalCounterValue": 8,
                          "mapCounterValue": 0, "reduceCounterValue": 0}]},
            {"counterGroupName": "org.apache.hadoop.mapreduce.TaskCounter",
             "counter": {"name": "MAP_INPUT_RECORDS", "totalCounterValue": 512,
                         "mapCounterValue": 512, "reduceCounterValue": 0}}
        ]}});
        let c = counters_of(&v);
        assert_eq!(c["TOTAL_LAUNCHED_MAPS"], 8);
        assert_eq!(c["MAP_INPUT_RECORDS"], 512);
    }

    #[test]
    fn a_list_of_one_is_its_item() {
        let one = serde_json::json!({"id": "job_1"});
        assert_eq!(items(&one).len(), 1);
        assert_eq!(items(&serde_json::json!([one, one])).len(), 2);
        assert!(items(&serde_json::Value::Null).is_empty());
    }
}
