//! The table's shape, as `template.yaml` declares it. The local gateway creates the table from this, and a test
//! checks that the template says the same.

use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection, ProjectionType,
    ScalarAttributeType, StreamSpecification, StreamViewType, TimeToLiveSpecification,
};

use super::keys::{GSI1, GSI1PK, GSI1SK, GSI2, GSI2PK, GSI2SK, PK, SK, TTL};
use super::Db;

/// The key attributes of the table and of each index: (index name or `None` for the table, hash, range).
pub const KEY_SCHEMA: &[(Option<&str>, &str, &str)] = &[
    (None, PK, SK),
    (Some(GSI1), GSI1PK, GSI1SK),
    (Some(GSI2), GSI2PK, GSI2SK),
];
pub const TTL_ATTRIBUTE: &str = TTL;
pub const STREAM_VIEW: &str = "NEW_AND_OLD_IMAGES";

fn key(name: &str, kind: KeyType) -> Result<KeySchemaElement, aws_sdk_dynamodb::error::BuildError> {
    KeySchemaElement::builder().attribute_name(name).key_type(kind).build()
}

impl Db {
    /// Creates the table (with its indexes, stream and TTL) unless it exists. Used by the local stack only;
    /// on AWS the template creates it.
    pub async fn ensure_table(&self) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
        let client = &self.client;
        if client.describe_table().table_name(self.table()).send().await.is_ok() {
            return Ok(());
        }
        let mut request = client
            .create_table()
            .table_name(self.table())
            .billing_mode(BillingMode::PayPerRequest)
            .stream_specification(
                StreamSpecification::builder()
                    .stream_enabled(true)
                    .stream_view_type(StreamViewType::NewAndOldImages)
                    .build()?,
            );
        for (index, hash, range) in KEY_SCHEMA {
            for attribute in [hash, range] {
                request = request.attribute_definitions(
                    AttributeDefinition::builder()
                        .attribute_name(*attribute)
                        .attribute_type(ScalarAttributeType::S)
                        .build()?,
                );
            }
            match index {
                None => {
                    request = request
                        .key_schema(key(hash, KeyType::Hash)?)
                        .key_schema(key(range, KeyType::Range)?)
                }
                Some(index) => {
                    request = request.global_secondary_indexes(
                        GlobalSecondaryIndex::builder()
                            .index_name(*index)
                            .key_schema(key(hash, KeyType::Hash)?)
                            .key_schema(key(range, KeyType::Range)?)
                            .projection(Projection::builder().projection_type(ProjectionType::All).build())
                            .build()?,
                    )
                }
            }
        }
        match request.send().await {
            Ok(_) => {}
            // Another process (a parallel test) created it first.
            Err(error)
                if error
                    .as_service_error()
                    .is_some_and(|e| e.is_resource_in_use_exception()) =>
            {
                return Ok(())
            }
            Err(error) => return Err(error.into()),
        }
        client
            .update_time_to_live()
            .table_name(self.table())
            .time_to_live_specification(
                TimeToLiveSpecification::builder()
                    .enabled(true)
                    .attribute_name(TTL_ATTRIBUTE)
                    .build()?,
            )
            .send()
            .await?;
        Ok(())
    }
}
