//! A consumer group's committed offsets asked through a kept client:
//! librdkafka's admin ListConsumerGroupOffsets (Kafka's OffsetFetch), which
//! rust-rdkafka does not wrap. Asking with a consumer carrying the group's
//! id, as before, meant a fresh client, and its two SCRAM logins, on every
//! look at a group: 0.3–1 s of a lag check under a shared room's load.

use rdkafka::bindings as rd;
use rdkafka::client::{Client, ClientContext};
use rdkafka::types::RDKafkaErrorCode;
use std::ffi::{CStr, CString, c_char};
use std::time::Duration;

/// Per partition asked for, (topic, partition, committed offset if any).
pub(super) type Offsets = Vec<(String, i32, Option<i64>)>;

/// The committed offsets of `group` on `partitions`, asked on `client`.
pub(super) fn committed<C: ClientContext>(
    client: &Client<C>,
    group: &str,
    partitions: &[(String, i32)],
    timeout: Duration,
) -> Result<Offsets, RDKafkaErrorCode> {
    let group = CString::new(group).map_err(|_| RDKafkaErrorCode::InvalidArgument)?;
    let topics = partitions
        .iter()
        .map(|(t, _)| CString::new(t.as_str()))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|_| RDKafkaErrorCode::InvalidArgument)?;
    let ms = timeout.as_millis().min(i32::MAX as u128 / 2) as i32;
    // SAFETY: `rk` lives as long as `client`; every object made here is
    // destroyed here, after the one call that uses it (librdkafka copies
    // the request and its partitions); the event is read before it is
    // destroyed.
    unsafe {
        let rk = client.native_ptr();
        let list = rd::rd_kafka_topic_partition_list_new(partitions.len() as i32);
        for (name, (_, p)) in topics.iter().zip(partitions) {
            rd::rd_kafka_topic_partition_list_add(list, name.as_ptr(), *p);
        }
        let mut request = rd::rd_kafka_ListConsumerGroupOffsets_new(group.as_ptr(), list);
        let options = rd::rd_kafka_AdminOptions_new(
            rk,
            rd::rd_kafka_admin_op_t::RD_KAFKA_ADMIN_OP_LISTCONSUMERGROUPOFFSETS,
        );
        let mut errstr = [0 as c_char; 256];
        rd::rd_kafka_AdminOptions_set_request_timeout(
            options,
            ms,
            errstr.as_mut_ptr(),
            errstr.len(),
        );
        let queue = rd::rd_kafka_queue_new(rk);
        rd::rd_kafka_ListConsumerGroupOffsets(rk, &mut request, 1, options, queue);
        let event = rd::rd_kafka_queue_poll(queue, ms.saturating_add(1000));
        let out = read_event(event);
        if !event.is_null() {
            rd::rd_kafka_event_destroy(event);
        }
        rd::rd_kafka_queue_destroy(queue);
        rd::rd_kafka_AdminOptions_destroy(options);
        rd::rd_kafka_ListConsumerGroupOffsets_destroy(request);
        rd::rd_kafka_topic_partition_list_destroy(list);
        out
    }
}

/// The offsets in a ListConsumerGroupOffsets result event (null: no answer
/// in time).
///
/// # Safety
/// `event` is null or a live event of that kind.
unsafe fn read_event(event: *mut rd::rd_kafka_event_t) -> Result<Offsets, RDKafkaErrorCode> {
    use rd::rd_kafka_resp_err_t::RD_KAFKA_RESP_ERR_NO_ERROR as NO_ERROR;
    if event.is_null() {
        return Err(RDKafkaErrorCode::OperationTimedOut);
    }
    // SAFETY: per this function's contract; every pointer read comes from
    // the event and lives as long as it.
    unsafe {
        let err = rd::rd_kafka_event_error(event);
        if err != NO_ERROR {
            return Err(err.into());
        }
        let result = rd::rd_kafka_event_ListConsumerGroupOffsets_result(event);
        let mut n = 0usize;
        let groups = rd::rd_kafka_ListConsumerGroupOffsets_result_groups(result, &mut n);
        if groups.is_null() || n == 0 {
            return Err(RDKafkaErrorCode::Fail);
        }
        let group = *groups;
        let gerr = rd::rd_kafka_group_result_error(group);
        if !gerr.is_null() {
            return Err(rd::rd_kafka_error_code(gerr).into());
        }
        let list = rd::rd_kafka_group_result_partitions(group);
        if list.is_null() || (*list).cnt <= 0 {
            return Ok(Vec::new());
        }
        let elems = std::slice::from_raw_parts((*list).elems, (*list).cnt as usize);
        elems
            .iter()
            .map(|e| {
                if e.err != NO_ERROR {
                    return Err(e.err.into());
                }
                let topic = CStr::from_ptr(e.topic).to_string_lossy().into_owned();
                Ok((topic, e.partition, (e.offset >= 0).then_some(e.offset)))
            })
            .collect()
    }
}
